import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoStore

/// An error the gateway answers a client with, rendered as RFC 9457 `application/problem+json`.
///
/// A struct around a private code so that cases can be added without breaking callers.
package struct GatewayError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case noRoute
        case methodNotAllowed(allowed: [String])
        case payloadTooLarge(limit: Int)
        case badGateway(String)
        case gatewayTimeout(String)
        case noMockExample
        case badRequest(String)
        case unauthorized
        case notFound(String)
        case upstreamUnavailable(upstream: String, retryAfter: Duration)
        case unknownVersion(requested: String, available: [String])
        case gone(sunset: String, successor: String?)
        case unauthenticated(challenges: [String])
        case forbidden
        case denied(String)
        case authUnavailable
        case limitStoreUnavailable
        case conflict(String)
        case tooManyRequests(retryAfter: Int, headers: [HTTPField])
        case invalidRequest([ValidationIssue])
        case unsupportedMediaType(String, accepted: [String])
        case notAcceptable(String)
        case internalError(String)
        /// Bytes that are not an HTTP/1.1 request: 400, 431, 501 or 505.
        case malformedRequest(status: Int, detail: String)
    }

    private let code: Code

    package static let noRoute = GatewayError(code: .noRoute)
    package static func methodNotAllowed(allowed: [String]) -> GatewayError {
        .init(code: .methodNotAllowed(allowed: allowed))
    }
    package static func payloadTooLarge(limit: Int) -> GatewayError { .init(code: .payloadTooLarge(limit: limit)) }
    package static func badGateway(_ detail: String) -> GatewayError { .init(code: .badGateway(detail)) }
    package static func gatewayTimeout(_ detail: String) -> GatewayError { .init(code: .gatewayTimeout(detail)) }
    package static let noMockExample = GatewayError(code: .noMockExample)
    package static func badRequest(_ detail: String) -> GatewayError { .init(code: .badRequest(detail)) }
    static func malformedRequest(_ error: HTTP1ParseError) -> GatewayError {
        .init(code: .malformedRequest(status: error.status, detail: error.detail))
    }
    package static let unauthorized = GatewayError(code: .unauthorized)
    package static func notFound(_ detail: String) -> GatewayError { .init(code: .notFound(detail)) }
    package static func unknownVersion(requested: String, available: [String]) -> GatewayError {
        .init(code: .unknownVersion(requested: requested, available: available))
    }
    package static func gone(sunset: String, successor: String?) -> GatewayError {
        .init(code: .gone(sunset: sunset, successor: successor))
    }
    /// A missing or bad credential on a data-plane route; the challenges name the accepted schemes.
    package static func unauthenticated(challenges: [String]) -> GatewayError {
        .init(code: .unauthenticated(challenges: challenges))
    }
    /// A valid credential that is not allowed here.
    package static let forbidden = GatewayError(code: .forbidden)
    /// A request that is refused for the reason given (a portal form without its CSRF token).
    package static func denied(_ detail: String) -> GatewayError { .init(code: .denied(detail)) }
    /// The credential could not be checked (an introspection endpoint or a JWKS was unreachable).
    package static let authUnavailable = GatewayError(code: .authUnavailable)
    /// The shared limit store did not answer, and the limit says `on-store-failure: deny`.
    package static let limitStoreUnavailable = GatewayError(code: .limitStoreUnavailable)
    /// The request clashes with what exists (a consumer that is already there).
    package static func conflict(_ detail: String) -> GatewayError { .init(code: .conflict(detail)) }
    /// A limit refused the request; `headers` are its RateLimit headers.
    package static func tooManyRequests(retryAfter: Int, headers: [HTTPField]) -> GatewayError {
        .init(code: .tooManyRequests(retryAfter: retryAfter, headers: headers))
    }
    /// A request that breaks its OpenAPI operation; `errors` in the problem lists each issue.
    package static func invalidRequest(_ issues: [ValidationIssue]) -> GatewayError {
        .init(code: .invalidRequest(issues))
    }
    /// A body of a media type the operation does not take.
    package static func unsupportedMediaType(_ type: String, accepted: [String]) -> GatewayError {
        .init(code: .unsupportedMediaType(type, accepted: accepted))
    }
    /// No answer of a media type the request's `Accept` takes.
    package static func notAcceptable(_ detail: String) -> GatewayError { .init(code: .notAcceptable(detail)) }
    /// A fault of the gateway's own; the detail says what failed, never a secret.
    package static func internalError(_ detail: String) -> GatewayError { .init(code: .internalError(detail)) }
    package static func upstreamUnavailable(upstream: String, retryAfter: Duration) -> GatewayError {
        .init(code: .upstreamUnavailable(upstream: upstream, retryAfter: retryAfter))
    }

    /// The HTTP status sent to the client.
    package var status: HTTPResponse.Status {
        switch code {
        case .noRoute, .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .payloadTooLarge: return .contentTooLarge
        case .badGateway: return .badGateway
        case .gatewayTimeout: return .gatewayTimeout
        case .noMockExample: return .notImplemented
        case .badRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .upstreamUnavailable: return .serviceUnavailable
        case .unknownVersion: return .notFound
        case .gone: return .gone
        case .unauthenticated: return .unauthorized
        case .forbidden, .denied: return .forbidden
        case .authUnavailable, .limitStoreUnavailable: return .serviceUnavailable
        case .conflict: return .conflict
        case .tooManyRequests: return .tooManyRequests
        case .invalidRequest: return .badRequest
        case .unsupportedMediaType: return .unsupportedMediaType
        case .notAcceptable: return .notAcceptable
        case .internalError: return .internalServerError
        case .malformedRequest(let status, _):
            switch status {
            case 431: return .requestHeaderFieldsTooLarge
            case 501: return .notImplemented
            case 505: return .init(code: 505, reasonPhrase: "HTTP Version Not Supported")
            default: return .badRequest
            }
        }
    }

    /// A short, stable slug used in the problem `type` URI and in the call log.
    package var slug: String {
        switch code {
        case .noRoute: return "no-route"
        case .methodNotAllowed: return "method-not-allowed"
        case .payloadTooLarge: return "payload-too-large"
        case .badGateway: return "bad-gateway"
        case .gatewayTimeout: return "gateway-timeout"
        case .noMockExample: return "no-mock-example"
        case .badRequest: return "bad-request"
        case .unauthorized: return "unauthorized"
        case .notFound: return "not-found"
        case .upstreamUnavailable: return "upstream-unavailable"
        case .unknownVersion: return "unknown-version"
        case .gone: return "sunset"
        case .unauthenticated: return "unauthenticated"
        case .forbidden, .denied: return "forbidden"
        case .authUnavailable: return "auth-unavailable"
        case .limitStoreUnavailable: return "limit-store-unavailable"
        case .conflict: return "conflict"
        case .tooManyRequests: return "rate-limited"
        case .invalidRequest: return "invalid-request"
        case .unsupportedMediaType: return "unsupported-media-type"
        case .notAcceptable: return "not-acceptable"
        case .internalError: return "internal-error"
        case .malformedRequest: return "malformed-request"
        }
    }

    private var title: String {
        switch code {
        case .noRoute: return "No route matches this request"
        case .methodNotAllowed: return "Method not allowed"
        case .payloadTooLarge: return "Request body too large"
        case .badGateway: return "Bad gateway"
        case .gatewayTimeout: return "Gateway timeout"
        case .noMockExample: return "No example to answer with"
        case .badRequest: return "Bad request"
        case .unauthorized: return "Unauthorized"
        case .notFound: return "Not found"
        case .upstreamUnavailable: return "Upstream unavailable"
        case .unknownVersion: return "Unknown API version"
        case .gone: return "This API version is retired"
        case .unauthenticated: return "Unauthorized"
        case .forbidden, .denied: return "Forbidden"
        case .authUnavailable: return "Credentials cannot be checked"
        case .limitStoreUnavailable: return "Rate limits cannot be checked"
        case .conflict: return "Conflict"
        case .tooManyRequests: return "Too many requests"
        case .invalidRequest: return "The request does not match the API's contract"
        case .unsupportedMediaType: return "Unsupported media type"
        case .notAcceptable: return "Not acceptable"
        case .internalError: return "Internal error"
        case .malformedRequest: return "Malformed request"
        }
    }

    var detail: String {
        switch code {
        case .noRoute: return "No API route matches this host, method and path."
        case .methodNotAllowed(let allowed): return "This path accepts \(allowed.joined(separator: ", "))."
        case .payloadTooLarge(let limit): return "The request body is larger than the limit of \(limit) bytes."
        case .badGateway(let detail), .gatewayTimeout(let detail), .badRequest(let detail), .notFound(let detail),
            .conflict(let detail), .denied(let detail), .malformedRequest(_, let detail), .notAcceptable(let detail),
            .internalError(let detail):
            return detail
        case .noMockExample: return "The OpenAPI operation has no 2xx response with an example or schema."
        case .unauthorized: return "A valid bearer token is required."
        case .upstreamUnavailable:
            // The config's name for the upstream stays internal.
            return "The upstream service is failing and its circuit breaker is open; try again later."
        case .unknownVersion(let requested, let available):
            return "Version '\(requested)' does not exist here; the versions are \(available.joined(separator: ", "))."
        case .gone(let sunset, let successor):
            return "This version was retired on \(sunset)." + (successor.map { " Its successor is at \($0)." } ?? "")
        case .unauthenticated: return "A valid credential is required for this route."
        case .forbidden: return "The credential is valid but not allowed to use this route."
        case .authUnavailable: return "The service that checks credentials did not answer; try again later."
        case .limitStoreUnavailable: return "The store that counts rate limits did not answer; try again later."
        case .tooManyRequests(let retryAfter, _):
            return "A rate limit or quota was reached; try again in \(retryAfter) s."
        case .invalidRequest(let issues):
            return issues.count == 1
                ? "1 problem: \(issues[0])." : "\(issues.count) problems; `errors` lists each with its place."
        case .unsupportedMediaType(let type, let accepted):
            return "This operation takes \(accepted.joined(separator: ", ")), not \(type)."
        }
    }

    package var description: String { "\(status.code) \(slug): \(detail)" }

    /// The problem+json response, carrying the request id in the body and in the header.
    package func response(requestID: String, instance: String, requestIDHeader: HTTPField.Name) -> Response {
        var (head, body) = problem(requestID: requestID, instance: instance, requestIDHeader: requestIDHeader)
        head.headerFields[.contentLength] = nil
        return Response(status: head.status, headers: head.headerFields, body: .init(byteBuffer: body))
    }

    /// The problem+json answer as a head and a body, for the event-loop path that writes parts.
    package func problem(
        requestID: String, instance: String, requestIDHeader: HTTPField.Name
    ) -> (HTTPResponse, ByteBuffer) {
        var json = "{\"type\":\"https://portico.dev/problems/\(slug)\""
        json += ",\"title\":\(JSONText.quote(title)),\"status\":\(status.code)"
        let instance = CallRecord.bounded(instance, to: CallRecord.maximumPathBytes)
        json += ",\"detail\":\(JSONText.quote(detail)),\"instance\":\(JSONText.quote(instance))"
        json += ",\"request_id\":\(JSONText.quote(requestID))"
        if case .methodNotAllowed(let allowed) = code {
            json += ",\"allow\":[" + allowed.map(JSONText.quote).joined(separator: ",") + "]"
        }
        if case .invalidRequest(let issues) = code {
            json +=
                ",\"errors\":["
                + issues.map { issue in
                    "{\"pointer\":\(JSONText.quote(issue.pointer)),\"detail\":\(JSONText.quote(issue.message))}"
                }.joined(separator: ",") + "]"
        }
        if case .unsupportedMediaType(_, let accepted) = code {
            json += ",\"accepted\":[" + accepted.map(JSONText.quote).joined(separator: ",") + "]"
        }
        if case .unknownVersion(_, let available) = code {
            json += ",\"versions\":[" + available.map(JSONText.quote).joined(separator: ",") + "]"
        }
        json += "}"
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        headers.setUnindexed(requestIDHeader, requestID)
        if case .methodNotAllowed(let allowed) = code { headers[.allow] = allowed.joined(separator: ", ") }
        if case .unauthorized = code { headers[.wwwAuthenticate] = "Bearer" }
        if case .tooManyRequests(let retryAfter, let limitHeaders) = code {
            headers[.retryAfter] = String(max(1, retryAfter))
            for field in limitHeaders { headers.append(field) }
        }
        if case .unauthenticated(let challenges) = code {
            for challenge in challenges { headers.append(HTTPField(name: .wwwAuthenticate, value: challenge)) }
        }
        if case .gone(let sunset, let successor) = code {
            headers[LifecyclePolicy.sunset] = sunset
            if let successor { headers[LifecyclePolicy.link] = "<\(successor)>; rel=\"successor-version\"" }
        }
        if case .upstreamUnavailable(_, let retryAfter) = code {
            headers[.retryAfter] = String(
                max(1, Int(retryAfter.components.seconds) + (retryAfter.components.attoseconds > 0 ? 1 : 0)))
        }
        headers[.contentLength] = String(json.utf8.count)
        return (HTTPResponse(status: status, headerFields: headers), ByteBuffer(string: json))
    }
}
