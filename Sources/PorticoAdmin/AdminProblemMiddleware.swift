internal import Foundation
import HTTPTypes
import Hummingbird
import Logging
internal import OpenAPIRuntime
import PorticoConfig
import PorticoGateway

/// Answers every admin refusal as problem+json with the request id: a request the generated
/// server could not read (400 naming the field, 415, 406), a `GatewayError` an operation threw,
/// a rejected reload (422 listing each problem), a path the document lacks (404) and a method a
/// path lacks (405 with `Allow`, from `openapi.yaml`).
struct AdminProblemMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            return answer(for: error, request, context)
        } catch let error as GatewayError {
            return AdminAPI.problem(error, request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            if let allowed = AdminDocument.shared.methods(for: request.uri.path) {
                return AdminAPI.problem(.methodNotAllowed(allowed: allowed), request, context)
            }
            return AdminAPI.problem(
                .notFound("The admin API has no \(request.uri.path); see GET /admin/openapi.json."), request, context)
        }
    }

    private func answer(for error: ServerError, _ request: Request, _ context: Context) -> Response {
        switch error.underlyingError {
        case let refusal as GatewayError:
            return AdminAPI.problem(refusal, request, context)
        case let rejected as ReloadRejected:
            return AdminAPI.reloadProblem(
                message: rejected.message, diagnostics: rejected.diagnostics, requestID: context.id,
                path: request.uri.path)
        case let decoding as DecodingError:
            return AdminAPI.problem(
                .invalidRequest([Self.issue(decoding)]), request, context)
        default:
            switch error.httpStatus.code {
            case 415:
                let given = request.headers[.contentType] ?? "no content type"
                return AdminAPI.problem(.unsupportedMediaType(given, accepted: ["application/json"]), request, context)
            case 406:
                return AdminAPI.problem(.notAcceptable(error.causeDescription), request, context)
            case 400..<500:
                return AdminAPI.problem(.badRequest(error.causeDescription), request, context)
            default:
                logger.error(
                    "admin operation failed",
                    metadata: [
                        "operation": "\(error.operationID)", "error": "\(error.underlyingError)",
                        "request_id": "\(context.id)",
                    ])
                return AdminAPI.problem(
                    .internalError("The operation \(error.operationID) failed; the log has request \(context.id)."),
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
