import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The terminal stage of a branching endpoint: the first case whose condition holds on the
/// request sends it, whole, to its upstream; else the default does; else 404.
///
/// A condition on the body reads it first (up to `maxBodySize`, or 413), and the upstream then
/// gets the bytes that were read.
struct BranchStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let cases: [(condition: BranchCondition, stage: any Policy)]
    let fallback: (any Policy)?
    let readsBody: Bool
    let maxBodySize: Int

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var request = request
        var document: JSONValue?
        if readsBody, request.head.carriesBody {
            let body = try await BoundedBody.collect(request, limit: maxBodySize)
            // A body that is not JSON matches no `body.` condition; it is still forwarded as sent.
            if request.headers[.contentEncoding] == nil {
                document = try? JSONParser.parse(Array(body.readableBytesView))
            }
            var head = request.head
            head.headerFields[.transferEncoding] = nil
            head.headerFields[.contentLength] = String(body.readableBytes)
            // The proxy counts the bytes as it sends them.
            request = Request(head: head, body: RequestBody(buffer: body))
        }
        let head = request.head
        let values: (BranchCondition.Operand) -> [String] = { operand in
            Self.values(of: operand, head: head, document: document, exchange: exchange)
        }
        for entry in cases where entry.condition.holds(values) {
            return try await entry.stage.handle(request, exchange: exchange, next: next)
        }
        guard let fallback else { throw GatewayError.notFound("No branch of this endpoint matches the request.") }
        return try await fallback.handle(request, exchange: exchange, next: next)
    }

    static func values(
        of operand: BranchCondition.Operand, head: HTTPRequest, document: JSONValue?, exchange: Exchange
    ) -> [String] {
        let identity = exchange.identity
        switch operand {
        case .header(let name): return HTTPField.Name(name).map { head.headerFields[values: $0] } ?? []
        case .query(let name): return QueryParameter.value(of: name, in: head.path ?? "/").map { [$0] } ?? []
        case .path(let name):
            return PathParameters.value(of: name, template: exchange.route.template, path: exchange.request.path ?? "/")
                .map { [$0] } ?? []
        case .body(let selector): return document.map { selector.values(in: $0).compactMap(\.scalarText) } ?? []
        case .consumerName: return identity.map { [$0.consumer] } ?? []
        case .consumerGroups: return identity?.groups ?? []
        case .consumerPlan: return identity?.plan.map { [$0] } ?? []
        case .claim(let name): return identity?.claims[name].map { [$0] } ?? []
        case .method: return [head.method.rawValue]
        }
    }
}
