internal import Foundation
import HTTPTypes
internal import OpenAPIRuntime
import PorticoGateway

/// Reads an admin request's body before the generated server decodes it: at most
/// `maximumBytes` (413 beyond), and none at all when the request carries none (no
/// `Content-Length` or `Transfer-Encoding`, RFC 9112 section 6.3, or a length of 0), so that an
/// operation whose body is optional sees "no body", not an empty document that is not JSON.
struct AdminBodyMiddleware: ServerMiddleware {
    static let maximumBytes = AdminRequestValidation.bodyLimit

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let declared = request.headerFields[.contentLength].flatMap { Int($0) }
        guard let body, declared != 0, declared != nil || request.headerFields[.transferEncoding] != nil else {
            return try await next(request, nil, metadata)
        }
        if let declared, declared > Self.maximumBytes { throw GatewayError.payloadTooLarge(limit: Self.maximumBytes) }
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= Self.maximumBytes else {
                throw GatewayError.payloadTooLarge(limit: Self.maximumBytes)
            }
            bytes += chunk
        }
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}
