import Hummingbird
import NIOCore

/// Refuses request bodies above a limit with 413: at once when `Content-Length` says so, and
/// while streaming when a chunked body grows past it.
struct BodySizeLimitPolicy: Policy {
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
}
