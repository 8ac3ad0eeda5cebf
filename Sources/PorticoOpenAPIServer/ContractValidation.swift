import Foundation
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
        // HEAD is answered by the GET operation (the router's own HEAD), so it is checked as GET.
        let method = request.method == .head ? "GET" : request.method.rawValue
        let path = Substring(request.uri.path)
        guard path.hasPrefix(prefix),
            let (operation, answers) = document.operations(matching: path.dropFirst(prefix.count)).first(where: {
                $0.declared.method == method
            })
        else {
            return try await next(request, context)
        }
        var request = request
        if let accept = request.headers[.accept] {
            // Checked before the operation runs, not after it as the generated server does, so a
            // refused answer never follows a change already made (a key rotated, an app created).
            let acceptable = answers.filter { Self.accepts(accept, $0) }
            guard !acceptable.isEmpty || answers.isEmpty else {
                throw GatewayError.notAcceptable(
                    "This operation answers \(answers.joined(separator: " or ")), which Accept: \(accept) does not take."
                )
            }
            if !acceptable.isEmpty {
                var head = request.head
                head.headerFields[.accept] = acceptable.joined(separator: ", ")
                request = Request(head: head, body: request.body)
            }
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

    /// Whether an `Accept` value takes `mediaType`: a range equal to it, `type/*` or `*/*`
    /// (parameters and weights aside on both sides, as the generated server compares them, so
    /// `text/plain` takes `text/plain; version=0.0.4`).
    static func accepts(_ accept: String, _ mediaType: String) -> Bool {
        let bare = mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let wanted = bare.lowercased().split(separator: "/", maxSplits: 1)
        guard wanted.count == 2 else { return false }
        return accept.split(separator: ",").contains { entry in
            let range = entry.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let parts = range?.split(separator: "/", maxSplits: 1) ?? []
            guard parts.count == 2 else { return false }
            return parts[0] == "*" && parts[1] == "*"
                || parts[0] == wanted[0] && (parts[1] == "*" || parts[1] == wanted[1])
        }
    }
}
