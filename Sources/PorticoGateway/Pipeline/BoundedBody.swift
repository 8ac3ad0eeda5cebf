import Hummingbird
import NIOCore

/// Reading a request body whole for a stage that must see all of it (a body transform, a
/// composite call that forwards it, a branch on a body field), within a limit.
enum BoundedBody {
    /// The body, up to `limit` bytes: 413 when `Content-Length` says more or more arrives; a
    /// policy's own error (413 from `max-body-size`) as it was thrown.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw GatewayError.payloadTooLarge(limit: limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError.payloadTooLarge(limit: limit)
        }
    }
}
