import Foundation
import HTTPTypes
import OpenAPIRuntime
import PorticoGateway

/// Hands the generated server no body when the request carries none (no `Content-Length` or
/// `Transfer-Encoding`, RFC 9112 section 6.3, or a length of 0), so that an operation whose body
/// is optional sees "no body", not an empty document that is not JSON. A body that is there was
/// already read, bounded and checked by `ContractValidation`, and passes as it is.
package struct BodyPresenceMiddleware: ServerMiddleware {
    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try await next(request, request.carriesBody ? body : nil, metadata)
    }
}
