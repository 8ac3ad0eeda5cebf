internal import Foundation
internal import OpenAPIRuntime
import PorticoGateway
import PorticoStore

/// The analytics queries, answered from the rollups and the call log.
extension AdminHandler {
    private var answers: AnalyticsAnswers { AnalyticsAnswers(store: store) }

    func timeSeries(_ input: Operations.TimeSeries.Input) async throws -> Operations.TimeSeries.Output {
        let q = input.query
        var values = Self.filter(
            since: q.since, from: Self.time(q.from), to: Self.time(q.to), api: q.api, version: q.version,
            route: q.route, consumer: q.consumer, status: q.status)
        values["bucket"] = q.bucket
        let document = try await answers.timeSeries(AnalyticsQuery(values))
        return .ok(.init(body: .json(try AdminAnswer.decode(document.text))))
    }

    func top(_ input: Operations.Top.Input) async throws -> Operations.Top.Output {
        let q = input.query
        var values = Self.filter(
            since: q.since, from: Self.time(q.from), to: Self.time(q.to), api: q.api, version: q.version,
            route: q.route, consumer: q.consumer, status: q.status)
        values["by"] = q.by?.rawValue
        values["limit"] = q.limit.map(String.init)
        let document = try await answers.top(AnalyticsQuery(values))
        return .ok(.init(body: .json(try AdminAnswer.decode(document.text))))
    }

    func searchCalls(_ input: Operations.SearchCalls.Input) async throws -> Operations.SearchCalls.Output {
        let q = input.query
        var values = Self.filter(
            since: q.since, from: Self.time(q.from), to: Self.time(q.to), api: q.api, version: q.version,
            route: q.route, consumer: q.consumer, status: q.status)
        values["request_id"] = q.requestId
        values["min_ms"] = q.minMs.map { String($0) }
        values["limit"] = q.limit.map(String.init)
        values["offset"] = q.offset.map(String.init)
        values["format"] = q.format?.rawValue
        let document = try await answers.calls(AnalyticsQuery(values))
        switch q.format ?? .json {
        case .json: return .ok(.init(body: .json(try AdminAnswer.decode(document.text))))
        case .jsonl: return .ok(.init(body: .applicationXNdjson(HTTPBody(document.text))))
        case .csv: return .ok(.init(body: .csv(HTTPBody(document.text))))
        }
    }

    /// A `from` or `to` as `AnalyticsQuery` reads it: Unix seconds, an RFC 3339 time (which the
    /// generated server has read as a `Date`) within the years the call log holds, 1970 to 9999.
    private static func time(_ value: Components.Schemas.TimeBound?) -> String? {
        value.flatMap { $0.value1.map(seconds) ?? $0.value2 }
    }

    private static func seconds(_ date: Date) -> String {
        String(min(max(date.timeIntervalSince1970, 0), AnalyticsQuery.latestSeconds))
    }

    /// The parameters every analytics query shares, as `AnalyticsQuery` reads them.
    private static func filter(
        since: String?, from: String?, to: String?, api: String?, version: String?, route: String?, consumer: String?,
        status: String?
    ) -> [String: String] {
        let pairs: [(String, String?)] = [
            ("since", since), ("from", from), ("to", to), ("api", api), ("version", version), ("route", route),
            ("consumer", consumer),
            ("status", status),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }
}
