import Hummingbird
import PorticoConfig
import PorticoGateway

/// Checks each request against its operation in a `ServedDocument` before the generated server
/// reads it: every parameter and body constraint the document states (types, patterns, lengths,
/// ranges, enums, `additionalProperties: false`, no `null` where none is allowed). A request that
/// breaks one gets 400 problem+json whose `errors` name each place (`/query/limit`,
/// `/body/password`); a body of a media type the operation does not take gets 415. The checks are
/// the gateway's own (`RequestValidationPolicy`), so Portico holds its own APIs to the contract it
/// helps users hold theirs to.
package struct ContractValidation<Context: ProblemContext>: RouterMiddleware {
    let document: ServedDocument
    /// The path the document's paths are under (its server URL's path), `""` for none.
    let prefix: String
    let bodyLimit: Int

    package init(document: ServedDocument, prefix: String = "", bodyLimit: Int = 1 << 20) {
        self.document = document
        self.prefix = prefix
        self.bodyLimit = bodyLimit
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let method = request.method.rawValue
        let path = Substring(request.uri.path)
        guard path.hasPrefix(prefix),
            let operation = document.operations(matching: path.dropFirst(prefix.count)).first(where: {
                $0.method == method
            })
        else {
            return try await next(request, context)
        }
        let contract = operation.contract
        let checked = try await ContractCheck.check(
            request, template: prefix + operation.path, contract: contract, reads: contract.reads,
            bodyLimit: bodyLimit)
        if let (type, accepted) = checked.unsupported {
            throw GatewayError.unsupportedMediaType(type, accepted: accepted)
        }
        guard checked.issues.isEmpty else {
            throw GatewayError.invalidRequest(Array(checked.issues.prefix(OperationContract.maximumIssues)))
        }
        return try await next(checked.request, context)
    }
}
