import Hummingbird
import PorticoConfig
import PorticoGateway

/// Checks each admin request against its operation in `openapi.yaml` before the generated server
/// reads it: every parameter and body constraint the document states (types, patterns, lengths,
/// ranges, enums, `additionalProperties: false`, no `null` where none is allowed). A request that
/// breaks one gets 400 problem+json whose `errors` name each place (`/query/limit`,
/// `/body/password`); a body of a media type the operation does not take gets 415. The checks are
/// the gateway's own (`RequestValidationPolicy`), so the admin API holds itself to the contract
/// it helps users hold their APIs to.
struct AdminRequestValidation: RouterMiddleware {
    typealias Context = BasicRequestContext
    static let bodyLimit = 1 << 20

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let method = request.method.rawValue
        guard
            let operation = AdminDocument.shared.operations(matching: Substring(request.uri.path)).first(where: {
                $0.method == method
            })
        else {
            return try await next(request, context)
        }
        let contract = operation.contract
        let checked = try await ContractCheck.check(
            request, template: operation.path, contract: contract, reads: contract.reads, bodyLimit: Self.bodyLimit)
        if let (type, accepted) = checked.unsupported {
            throw GatewayError.unsupportedMediaType(type, accepted: accepted)
        }
        guard checked.issues.isEmpty else {
            throw GatewayError.invalidRequest(Array(checked.issues.prefix(OperationContract.maximumIssues)))
        }
        return try await next(checked.request, context)
    }
}
