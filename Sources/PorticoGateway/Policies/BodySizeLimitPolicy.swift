import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses request bodies above a limit with 413: at once when `Content-Length` says so, and
/// while streaming when a chunked body grows past it.
struct BodySizeLimitPolicy: FastPolicy {
    let phase = PolicyPhase.request
    let priority = 1000
    let limit: Int

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw GatewayError.payloadTooLarge(limit: limit)
        }
        var request = request
        let limit = self.limit
        request.body = RequestBody(
            asyncSequence: ObservedBody(base: request.body) { _, total in
                if total > limit { throw GatewayError.payloadTooLarge(limit: limit) }
            })
        return try await next(request, exchange: exchange)
    }

    /// The event-loop path takes only bodies of a declared length, which the decoder holds them to.
    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length > limit {
            return .refuse(.payloadTooLarge(limit: limit))
        }
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}
}
