import Foundation
import PorticoConfig
import PorticoStore

/// The analytics queries answered as documents: for the admin API, and, limited to the caller's
/// own consumer, for the portal API. Every query reads the rollups, except the call search.
package struct AnalyticsAnswers: Sendable {
    package let store: any DataStore

    package init(store: any DataStore) {
        self.store = store
    }

    /// A body and its content type.
    package struct Document: Sendable {
        package var text: String
        package var contentType: String

        package init(text: String, contentType: String) {
            self.text = text
            self.contentType = contentType
        }
    }

    /// Counts, errors, bytes and latency percentiles per time bucket. `consumer` overrides any in the query.
    package func timeSeries(_ query: AnalyticsQuery, consumer: String? = nil) async throws -> Document {
        var filter = try query.filter()
        if let consumer { filter.consumer = consumer }
        let bucket = try query.duration("bucket") ?? .seconds(60)
        let points = try await store.timeSeries(filter, bucketSeconds: Int(bucket.seconds))
        return json("{\"points\":[" + points.map(Self.render).joined(separator: ",") + "]}")
    }

    /// The largest groups by `by` (route, consumer, status, version or api); `dimensions` limits the choice.
    package func top(
        _ query: AnalyticsQuery, consumer: String? = nil, dimensions: Set<UsageDimension> = Set(UsageDimension.allCases)
    )
        async throws -> Document
    {
        let by = query.values["by"] ?? "route"
        guard let dimension = UsageDimension(rawValue: by == "status" ? "status_class" : by),
            dimensions.contains(dimension)
        else {
            let names = dimensions.map { $0 == .status ? "status" : $0.rawValue }.sorted().joined(separator: ", ")
            throw GatewayError.badRequest("by must be one of \(names).")
        }
        var filter = try query.filter()
        if let consumer { filter.consumer = consumer }
        let limit = min(try query.int("limit") ?? 10, 1000)
        let rows = try await store.top(dimension, filter, limit: limit)
        return json("{\"by\":\(JSONText.quote(by)),\"rows\":[" + rows.map(Self.render).joined(separator: ",") + "]}")
    }

    /// The call log, newest first, as JSON, JSON lines or CSV (`format`).
    package func calls(_ query: AnalyticsQuery, consumer: String? = nil) async throws -> Document {
        var search = try query.search()
        if let consumer { search.consumer = consumer }
        let calls = try await store.searchCalls(search)
        switch query.values["format"] ?? "json" {
        case "csv":
            let text = ([CallRecord.csvHeader] + calls.map(\.csvLine)).joined(separator: "\r\n") + "\r\n"
            return Document(text: text, contentType: "text/csv; charset=utf-8")
        case "jsonl":
            return Document(
                text: calls.map(\.jsonLine).joined(separator: "\n") + (calls.isEmpty ? "" : "\n"),
                contentType: "application/x-ndjson")
        case "json":
            return json("{\"calls\":[" + calls.map(\.jsonLine).joined(separator: ",") + "]}")
        default:
            throw GatewayError.badRequest("format must be json, jsonl or csv.")
        }
    }

    private func json(_ text: String) -> Document {
        Document(text: text, contentType: "application/json")
    }

    static func render(_ summary: UsageSummary) -> String {
        func number(_ value: Double?) -> String { value.map { String(($0 * 1000).rounded() / 1000) } ?? "null" }
        var json = "{"
        if let time = summary.time {
            json += "\"time\":\(JSONText.quote(CallRecord.timestamp(time))),"
        } else {
            json += "\"key\":\(JSONText.quote(summary.key)),"
        }
        json +=
            "\"count\":\(summary.count),\"errors\":\(summary.errors),\"bytes_in\":\(summary.bytesIn),\"bytes_out\":\(summary.bytesOut)"
        json += ",\"p50_ms\":\(number(summary.p50)),\"p95_ms\":\(number(summary.p95)),\"p99_ms\":\(number(summary.p99))"
        json += ",\"upstream_p50_ms\":\(number(summary.upstreamP50)),\"upstream_p95_ms\":\(number(summary.upstreamP95))"
        json += ",\"upstream_p99_ms\":\(number(summary.upstreamP99))}"
        return json
    }
}
