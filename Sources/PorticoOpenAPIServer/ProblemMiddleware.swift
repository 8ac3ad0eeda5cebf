import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import PorticoConfig
import PorticoGateway

/// Answers every refusal of an API served from its document as problem+json with the request id:
/// a request the generated server could not read (400 naming the field, 415, 406), a
/// `GatewayError` an operation threw, a path the document lacks (404) and a method a path lacks
/// (405 with `Allow`, from the document). `special` answers errors of the API's own (the admin
/// API's rejected reload).
package struct ProblemMiddleware<Context: ProblemContext>: RouterMiddleware {
    let document: ServedDocument
    /// The path the document's paths are under, `""` for none.
    let prefix: String
    /// How a 404 names the API and where its document is: `The admin API`, `GET /admin/openapi.json`.
    let name: String
    let documentPath: String
    let logger: Logger
    let special: @Sendable (any Error, Request, Context) -> Response?

    package init(
        document: ServedDocument, prefix: String = "", name: String, documentPath: String, logger: Logger,
        special: @escaping @Sendable (any Error, Request, Context) -> Response? = { _, _, _ in nil }
    ) {
        self.document = document
        self.prefix = prefix
        self.name = name
        self.documentPath = documentPath
        self.logger = logger
        self.special = special
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            return answer(for: error, request, context)
        } catch let error as GatewayError {
            return Self.problem(error, request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            let path = Substring(request.uri.path)
            if path.hasPrefix(prefix), let allowed = document.methods(for: path.dropFirst(prefix.count)) {
                return Self.problem(.methodNotAllowed(allowed: allowed), request, context)
            }
            return Self.problem(.notFound("\(name) has no \(request.uri.path); see \(documentPath)."), request, context)
        }
    }

    /// An error as problem+json carrying the request id.
    package static func problem(_ error: GatewayError, _ request: Request, _ context: Context) -> Response {
        error.response(
            requestID: context.requestID, instance: request.uri.path, requestIDHeader: context.requestIDHeader)
    }

    private func answer(for error: ServerError, _ request: Request, _ context: Context) -> Response {
        if let response = special(error.underlyingError, request, context) { return response }
        switch error.underlyingError {
        case let refusal as GatewayError:
            return Self.problem(refusal, request, context)
        case let decoding as DecodingError where error.httpStatus.code < 500:
            // The generated server could not read the request; an answer that does not decode
            // (`GeneratedAnswer`) is the gateway's fault and falls to the 500 below.
            return Self.problem(.invalidRequest([Self.issue(decoding)]), request, context)
        default:
            switch error.httpStatus.code {
            case 415:
                let given = request.headers[.contentType] ?? "no content type"
                return Self.problem(.unsupportedMediaType(given, accepted: ["application/json"]), request, context)
            case 406:
                return Self.problem(.notAcceptable(error.causeDescription), request, context)
            case 400..<500:
                return Self.problem(.badRequest(error.causeDescription), request, context)
            default:
                logger.error(
                    "operation failed",
                    metadata: [
                        "operation": "\(error.operationID)", "error": "\(error.underlyingError)",
                        "request.id": "\(context.requestID)",
                    ])
                return Self.problem(
                    .internalError(
                        "The operation \(error.operationID) failed; the log has request \(context.requestID)."),
                    request, context)
            }
        }
    }

    /// Where in the request a value could not be read, as a JSON pointer, and why.
    static func issue(_ error: DecodingError) -> ValidationIssue {
        let (path, reason): ([any CodingKey], String)
        switch error {
        case .typeMismatch(let type, let context):
            (path, reason) = (context.codingPath, "must be \(Self.name(of: type))")
        case .valueNotFound(let type, let context):
            (path, reason) = (context.codingPath, "must be \(Self.name(of: type)), not null")
        case .keyNotFound(let key, let context): (path, reason) = (context.codingPath + [key], "is required")
        case .dataCorrupted(let context): (path, reason) = (context.codingPath, context.debugDescription)
        @unknown default: (path, reason) = ([], "\(error)")
        }
        let pointer = path.map { "/" + ($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
        return ValidationIssue(pointer: pointer.isEmpty ? "/" : pointer, message: reason)
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type: return "a whole number"
        case is Double.Type: return "a number"
        default: return type is any Collection.Type ? "a list" : "an object"
        }
    }
}
