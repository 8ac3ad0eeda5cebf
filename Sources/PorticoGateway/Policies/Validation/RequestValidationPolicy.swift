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
    /// `contract.reads`, computed once.
    let reads: Set<String>

    init(contract: OperationContract, enforce: Bool, bodyLimit: Int) {
        self.contract = contract
        self.enforce = enforce
        self.bodyLimit = bodyLimit
        self.reads = contract.reads
    }

    static let defaultBodyLimit = 1024 * 1024

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let checked = try await ContractCheck.check(
            request, template: exchange.route.template, contract: contract, reads: reads, bodyLimit: bodyLimit)
        if let (type, accepted) = checked.unsupported {
            exchange.recordValidation(
                "request", [ValidationIssue(pointer: "/header/content-type", message: "\(type) is not taken")])
            if enforce { throw GatewayError.unsupportedMediaType(type, accepted: accepted) }
        }
        if !checked.issues.isEmpty {
            exchange.recordValidation("request", checked.issues)
            if enforce {
                throw GatewayError.invalidRequest(Array(checked.issues.prefix(OperationContract.maximumIssues)))
            }
        }
        return try await next(checked.request, exchange: exchange)
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        let hasBody = head.carriesBody
        let contentType = head.headerFields[.contentType]
        // A body must be read whole to be checked: the streaming path does that.
        if contract.checksBody, hasBody, contract.readsBody(contentType: contentType) { return .slow }
        var issues = contract.validate(Self.parts(of: head, template: exchange.route.template, reads: reads))
        if contract.checksBody {
            let (refusal, found) = checkHead(contentType: contentType, hasBody: hasBody, exchange: exchange)
            if let refusal { return .refuse(refusal) }
            issues += found
        }
        guard !issues.isEmpty else { return .proceed }
        exchange.recordValidation("request", issues)
        return enforce ? .refuse(.invalidRequest(issues)) : .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}

    /// A body to check sends its request to the streaming path.
    var mayPassOn: Bool { contract.checksBody }

    /// What the head says of the body: a 415 to answer (`enforce`, a media type not taken), and
    /// the issues (a missing required body, no `Content-Type`).
    private func checkHead(
        contentType: String?, hasBody: Bool, exchange: Exchange
    ) -> (GatewayError?, [ValidationIssue]) {
        let (verdict, found) = contract.validate(bodyHead: contentType, hasBody: hasBody)
        guard case .unsupported(let type, let accepted) = verdict else { return (nil, found) }
        exchange.recordValidation(
            "request", [ValidationIssue(pointer: "/header/content-type", message: "\(type) is not taken")])
        return (enforce ? .unsupportedMediaType(type, accepted: accepted) : nil, found)
    }

    /// What the contract reads of a request: the path's values, the query's pairs, headers and
    /// cookies, each parsed only when a parameter is declared there (`reads`, fixed per route).
    static func parts(of head: HTTPRequest, template: String, reads: Set<String>) -> RequestParts {
        let path = head.path ?? "/"
        let fields = head.headerFields
        var query: [(String, String)] = []
        if reads.contains("query"), let mark = path.utf8.firstIndex(of: UInt8(ascii: "?")) {
            query = RequestParts.queryPairs(path[path.index(after: mark)...])
        }
        return RequestParts(
            pathValues: reads.contains("path") ? PathParameters.values(template: template, path: path) : [:],
            query: query,
            header: { name in HTTPField.Name(name).map { fields[values: $0] } ?? [] },
            cookie: { name in RequestCookies.value(named: name, in: fields) })
    }
}
