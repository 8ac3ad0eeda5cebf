import HTTPTypes
import Hummingbird
import PorticoConfig

/// A whole request checked against an OpenAPI operation's contract.
package enum ContractCheck {
    /// Checks `request` against `contract` (its parameters, and its body up to `bodyLimit` bytes):
    /// the issues found, a media type the operation does not take, and the request to pass on,
    /// holding the body's bytes when they were read to be checked. The streaming path's validation
    /// policy and the admin API check requests with this.
    package static func check(
        _ request: Request, template: String, contract: OperationContract, reads: Set<String>, bodyLimit: Int
    )
        async throws -> (request: Request, issues: [ValidationIssue], unsupported: (type: String, accepted: [String])?)
    {
        var issues = contract.validate(
            RequestValidationPolicy.parts(of: request.head, template: template, reads: reads))
        var request = request
        var unsupported: (type: String, accepted: [String])?
        let contentType = request.headers[.contentType]
        if contract.checksBody {
            if request.head.carriesBody, contract.readsBody(contentType: contentType) {
                let buffer = try await BoundedBody.collect(request, limit: bodyLimit)
                issues += contract.validate(body: Array(buffer.readableBytesView), contentType: contentType).1
                request = Request(head: request.head, body: RequestBody(buffer: buffer))
            } else {
                let (verdict, found) = contract.validate(
                    bodyHead: contentType, hasBody: request.head.carriesBody)
                if case .unsupported(let type, let accepted) = verdict { unsupported = (type, accepted) }
                issues += found
            }
        }
        return (request, issues, unsupported)
    }
}
