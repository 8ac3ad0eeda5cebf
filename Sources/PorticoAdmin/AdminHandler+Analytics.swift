internal import Foundation
internal import OpenAPIRuntime
import PorticoGateway
import PorticoOpenAPIServer
import PorticoStore

/// The analytics queries, answered from the rollups and the call log.
extension AdminHandler {
    private var answers: AnalyticsAnswers { AnalyticsAnswers(store: store) }

    func timeSeries(_ input: Operations.TimeSeries.Input) async throws -> Operations.TimeSeries.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, consumer: q.consumer, status: q.status)
        values["bucket"] = q.bucket
        let document = try await answers.timeSeries(AnalyticsQuery(values))
        return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
    }

    func top(_ input: Operations.Top.Input) async throws -> Operations.Top.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, consumer: q.consumer, status: q.status)
        values["by"] = q.by?.rawValue
        values["limit"] = q.limit.map(String.init)
        let document = try await answers.top(AnalyticsQuery(values))
        return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
    }

    func searchCalls(_ input: Operations.SearchCalls.Input) async throws -> Operations.SearchCalls.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, consumer: q.consumer, status: q.status)
        values["request_id"] = q.requestId
        values["min_ms"] = q.minMs.map { String($0) }
        values["limit"] = q.limit.map(String.init)
        values["offset"] = q.offset.map(String.init)
        values["format"] = q.format?.rawValue
        let document = try await answers.calls(AnalyticsQuery(values))
        switch q.format ?? .json {
        case .json: return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
        case .jsonl: return .ok(.init(body: .applicationXNdjson(HTTPBody(document.text))))
        case .csv: return .ok(.init(body: .csv(HTTPBody(document.text))))
        }
    }
}
