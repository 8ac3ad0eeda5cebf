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
        request.body = RequestBody(asyncSequence: LimitedBody(base: request.body, limit: limit))
        return try await next(request, exchange: exchange)
    }
}

/// A body stream that fails once more than `limit` bytes have passed.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += chunk.readableBytes
            if seen > limit { throw GatewayError.payloadTooLarge(limit: limit) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}
