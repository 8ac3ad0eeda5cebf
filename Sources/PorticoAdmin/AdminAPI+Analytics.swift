import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoGateway
import PorticoStore

/// The analytics queries of the admin API, answered from the rollups and the call log.
extension AdminAPI {
    static func addAnalytics(to router: Router<BasicRequestContext>, store: any DataStore) {
        let answers = AnalyticsAnswers(store: store)
        router.get("/admin/analytics/timeseries") { request, context -> Response in
            try await answer(request, context) { try await answers.timeSeries($0) }
        }
        router.get("/admin/analytics/top") { request, context -> Response in
            try await answer(request, context) { try await answers.top($0) }
        }
        router.get("/admin/analytics/calls") { request, context -> Response in
            try await answer(request, context) { try await answers.calls($0) }
        }
    }

    /// Runs a query, turning bad parameters into 400 problem+json.
    private static func answer(
        _ request: Request, _ context: BasicRequestContext, _ body: (AnalyticsQuery) async throws -> AnalyticsAnswers.Document
    ) async throws -> Response {
        try await answering(request, context) {
            let document = try await body(AnalyticsQuery(request.uri.queryParameters))
            return Response(
                status: .ok, headers: [.contentType: document.contentType], body: .init(byteBuffer: ByteBuffer(string: document.text)))
        }
    }
}
