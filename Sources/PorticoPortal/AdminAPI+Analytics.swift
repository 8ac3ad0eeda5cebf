import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import PorticoConfig
import PorticoGateway
import PorticoStore

/// The analytics queries of the admin API, answered from the rollups and the call log.
extension AdminAPI {
    static func addAnalytics(to router: Router<BasicRequestContext>, store: SQLiteStore) {
        router.get("/admin/analytics/timeseries") { request, context -> Response in
            try await answer(request, context) { query in
                let filter = try query.filter()
                let bucket = try query.duration("bucket") ?? .seconds(60)
                let points = try await store.timeSeries(filter, bucketSeconds: Int(bucket.seconds))
                return json("{\"points\":[" + points.map(render).joined(separator: ",") + "]}")
            }
        }
        router.get("/admin/analytics/top") { request, context -> Response in
            try await answer(request, context) { query in
                let by = query.values["by"] ?? "route"
                guard let dimension = UsageDimension(rawValue: by == "status" ? "status_class" : by) else {
                    throw GatewayError.badRequest("by must be api, version, route, consumer or status.")
                }
                let limit = min(try query.int("limit") ?? 10, 1000)
                let rows = try await store.top(dimension, try query.filter(), limit: limit)
                return json("{\"by\":\(JSONText.quote(by)),\"rows\":[" + rows.map(render).joined(separator: ",") + "]}")
            }
        }
        router.get("/admin/analytics/calls") { request, context -> Response in
            try await answer(request, context) { query in
                let calls = try await store.searchCalls(try query.search())
                switch query.values["format"] ?? "json" {
                case "csv":
                    let text = ([CallRecord.csvHeader] + calls.map(\.csvLine)).joined(separator: "\r\n") + "\r\n"
                    return body(text, contentType: "text/csv; charset=utf-8")
                case "jsonl":
                    return body(calls.map(\.jsonLine).joined(separator: "\n") + (calls.isEmpty ? "" : "\n"), contentType: "application/x-ndjson")
                case "json":
                    return json("{\"calls\":[" + calls.map(\.jsonLine).joined(separator: ",") + "]}")
                default:
                    throw GatewayError.badRequest("format must be json, jsonl or csv.")
                }
            }
        }
    }

    /// Runs a query, turning bad parameters into 400 problem+json.
    private static func answer(
        _ request: Request, _ context: BasicRequestContext, _ body: (AnalyticsQuery) async throws -> Response
    ) async throws -> Response {
        try await answering(request, context) { try await body(AnalyticsQuery(request.uri.queryParameters)) }
    }

    static func render(_ summary: UsageSummary) -> String {
        func number(_ value: Double?) -> String { value.map { String(($0 * 1000).rounded() / 1000) } ?? "null" }
        var json = "{"
        if let time = summary.time { json += "\"time\":\(JSONText.quote(timestamp(time)))," } else { json += "\"key\":\(JSONText.quote(summary.key))," }
        json += "\"count\":\(summary.count),\"errors\":\(summary.errors),\"bytes_in\":\(summary.bytesIn),\"bytes_out\":\(summary.bytesOut)"
        json += ",\"p50_ms\":\(number(summary.p50)),\"p95_ms\":\(number(summary.p95)),\"p99_ms\":\(number(summary.p99))"
        json += ",\"upstream_p50_ms\":\(number(summary.upstreamP50)),\"upstream_p95_ms\":\(number(summary.upstreamP95))"
        json += ",\"upstream_p99_ms\":\(number(summary.upstreamP99))}"
        return json
    }

    private static func body(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The query parameters shared by the analytics endpoints and the CLI.
public struct AnalyticsQuery: Sendable {
    public var values: [String: String]
    public var now: Date

    public init(_ values: [String: String], now: Date = Date()) {
        self.values = values
        self.now = now
    }

    init(_ parameters: FlatDictionary<Substring, Substring>) {
        var values: [String: String] = [:]
        for (key, value) in parameters { values[String(key)] = String(value) }
        self.init(values)
    }

    /// The time range: `from`/`to` (RFC 3339 or Unix seconds), or `since` (a duration back from now; default 1h).
    public func range() throws -> (from: Date, to: Date) {
        let to = try values["to"].map(date) ?? now
        if let from = try values["from"].map(date) { return (from, to) }
        let since = try duration("since") ?? .seconds(3600)
        return (to.addingTimeInterval(-since.seconds), to)
    }

    public func filter() throws -> AnalyticsFilter {
        let (from, to) = try range()
        var filter = AnalyticsFilter(
            from: from, to: to, api: values["api"], version: values["version"], route: values["route"],
            consumer: values["consumer"])
        if let status = values["status"] {
            guard let statusClass = Self.statusClass(status) else {
                throw GatewayError.badRequest("status must be a class like 5xx here.")
            }
            filter.statusClass = statusClass
        }
        return filter
    }

    public func search() throws -> CallSearch {
        var search = CallSearch()
        search.requestID = values["request_id"]
        search.consumer = values["consumer"]
        search.route = values["route"]
        search.api = values["api"]
        if values["from"] != nil || values["since"] != nil || values["to"] != nil {
            let range = try range()
            search.from = range.from
            search.to = range.to
        }
        if let status = values["status"] {
            if let statusClass = Self.statusClass(status) {
                search.statusClass = statusClass
            } else if let exact = Int(status), (100...599).contains(exact) {
                search.status = exact
            } else {
                throw GatewayError.badRequest("status must be a status like 503 or a class like 5xx.")
            }
        }
        if let text = values["min_ms"] {
            guard let value = Double(text) else { throw GatewayError.badRequest("min_ms must be a number.") }
            search.minMilliseconds = value
        }
        search.limit = try int("limit") ?? 100
        search.offset = try int("offset") ?? 0
        return search
    }

    public func int(_ name: String) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), value >= 0 else { throw GatewayError.badRequest("\(name) must be a whole number.") }
        return value
    }

    public func duration(_ name: String) throws -> ConfigDuration? {
        guard let text = values[name] else { return nil }
        guard let value = ConfigDuration(parsing: text), value.milliseconds > 0 else {
            throw GatewayError.badRequest("\(name) must be a duration like 15m, 1h or 7d.")
        }
        return value
    }

    private func date(_ text: String) throws -> Date {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        if let date = LifecycleConfig.parseDate(text) { return date }
        throw GatewayError.badRequest("'\(text)' is not a time (use RFC 3339 or Unix seconds).")
    }

    static func statusClass(_ text: String) -> Int? {
        guard text.count == 3, text.lowercased().hasSuffix("xx"), let digit = Int(text.prefix(1)), (1...5).contains(digit) else {
            return nil
        }
        return digit
    }
}
