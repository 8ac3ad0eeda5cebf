import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// Checks a request against its OpenAPI operation (`validate: enforce | report`): the path,
/// query, header and cookie parameters in their styles, and the body against its media type's
/// schema. `enforce` answers an invalid request with 400 problem+json listing every issue with
/// its JSON pointer (415 for a media type the operation does not take); `report` forwards it and
/// puts the issues in the call record and the metrics.
///
/// Runs after auth and the limits, so an unauthenticated caller learns nothing of the contract.
/// A request without a body to check is decided on the event loop; one whose body must be read
/// (JSON, a form, multipart, with a schema) takes the streaming path, which reads it whole within
/// `max-body-size` (1 MiB by default). Other bodies stream through unread.
struct RequestValidationPolicy: FastPolicy {
    let phase = PolicyPhase.request
    let priority = 3_000
    let contract: OperationContract
    let enforce: Bool
    let bodyLimit: Int

    static let defaultBodyLimit = 1024 * 1024

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var issues = contract.validate(Self.parts(of: request.head, template: exchange.route.template))
        var request = request
        let contentType = request.headers[.contentType]
        if contract.checksBody {
            if Self.hasBody(request.head), contract.readsBody(contentType: contentType) {
                let buffer = try await BoundedBody.collect(request, limit: bodyLimit)
                issues += contract.validate(body: Array(buffer.readableBytesView), contentType: contentType).1
                // The body was read to be checked; the proxy sends these bytes.
                request = Request(head: request.head, body: RequestBody(buffer: buffer))
            } else {
                let (verdict, found) = contract.validate(bodyHead: contentType, hasBody: Self.hasBody(request.head))
                if case .unsupported(let type, let accepted) = verdict {
                    exchange.recordValidation("request", [ValidationIssue(pointer: "/header/content-type", message: "\(type) is not taken")])
                    if enforce { throw GatewayError.unsupportedMediaType(type, accepted: accepted) }
                }
                issues += found
            }
        }
        if !issues.isEmpty {
            exchange.recordValidation("request", issues)
            if enforce { throw GatewayError.invalidRequest(Array(issues.prefix(OperationContract.maximumIssues))) }
        }
        return try await next(request, exchange: exchange)
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        let hasBody = Self.hasBody(head)
        let contentType = head.headerFields[.contentType]
        // A body must be read whole to be checked: the streaming path does that.
        if contract.checksBody, hasBody, contract.readsBody(contentType: contentType) { return .slow }
        var issues = contract.validate(Self.parts(of: head, template: exchange.route.template))
        if contract.checksBody {
            let (verdict, found) = contract.validate(bodyHead: contentType, hasBody: hasBody)
            if case .unsupported(let type, let accepted) = verdict {
                exchange.recordValidation("request", [ValidationIssue(pointer: "/header/content-type", message: "\(type) is not taken")])
                if enforce { return .refuse(.unsupportedMediaType(type, accepted: accepted)) }
            }
            issues += found
        }
        guard !issues.isEmpty else { return .proceed }
        exchange.recordValidation("request", issues)
        return enforce ? .refuse(.invalidRequest(issues)) : .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}

    static func hasBody(_ head: HTTPRequest) -> Bool {
        if let length = head.headerFields[.contentLength] { return length != "0" }
        return head.headerFields[.transferEncoding] != nil
    }

    /// What the contract reads of a request.
    static func parts(of head: HTTPRequest, template: String) -> RequestParts {
        let path = head.path ?? "/"
        let query = path.firstIndex(of: "?").map { path[path.index(after: $0)...] } ?? ""
        let fields = head.headerFields
        var cookies: [(String, String)] = []
        for value in fields[values: .cookie] { cookies += RequestParts.cookiePairs(value) }
        return RequestParts(
            pathValues: PathParameters.values(template: template, path: path),
            query: query.isEmpty ? [] : RequestParts.queryPairs(query),
            header: { name in HTTPField.Name(name).map { fields[values: $0] } ?? [] },
            cookies: cookies)
    }
}
