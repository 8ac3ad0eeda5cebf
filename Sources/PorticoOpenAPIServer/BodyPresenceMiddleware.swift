import Foundation
import HTTPTypes
import OpenAPIRuntime
import PorticoGateway

/// Hands the generated server no body when the request carries none (no `Content-Length` or
/// `Transfer-Encoding`, RFC 9112 section 6.3, or a length of 0), so that an operation whose body
/// is optional sees "no body", not an empty document that is not JSON. A body that is there was
/// already read, bounded and checked by `ContractValidation` when the document gives its media
/// type a schema; any other is read here, up to `limit` bytes (past it: 413), since the
/// generated server itself reads a body whole.
package struct BodyPresenceMiddleware: ServerMiddleware {
    let limit: Int

    package init(limit: Int = 1 << 20) {
        self.limit = limit
    }

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard request.carriesBody, let body else { return try await next(request, nil, metadata) }
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= limit else { throw GatewayError.payloadTooLarge(limit: limit) }
            bytes += chunk
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
