import HTTPTypes
import Hummingbird
import PorticoConfig

/// Edits request headers before forwarding and response headers on the way back.
struct HeadersPolicy: FastPolicy {
    let phase = PolicyPhase.request
    let priority = 100
    let request: CompiledHeaderRules?
    let response: CompiledHeaderRules?

    init?(request: HeaderRules?, response: HeaderRules?) {
        guard request != nil || response != nil else { return nil }
        self.request = request.map(CompiledHeaderRules.init)
        self.response = response.map(CompiledHeaderRules.init)
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var request = request
        if let rules = self.request {
            var head = request.head
            rules.apply(to: &head.headerFields)
            request = Request(head: head, body: request.body)
        }
        var response = try await next(request, exchange: exchange)
        if let rules = self.response { rules.apply(to: &response.headers) }
        return response
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        request?.apply(to: &head.headerFields)
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        response?.apply(to: &head.headerFields)
    }
}

/// Header rules with their names parsed once.
struct CompiledHeaderRules: Sendable {
    let remove: [HTTPField.Name]
    let set: [HTTPField]
    let add: [HTTPField]

    init(_ rules: HeaderRules) {
        self.remove = rules.remove.compactMap { HTTPField.Name($0) }
        self.set = rules.set.compactMap { pair in
            HTTPField.Name(pair.name).map { HTTPField(name: $0, value: pair.value) }
        }
        self.add = rules.add.compactMap { pair in
            HTTPField.Name(pair.name).map { HTTPField(name: $0, value: pair.value) }
        }
    }

    func apply(to fields: inout HTTPFields) {
        for name in remove { fields[name] = nil }
        for field in set { fields[field.name] = field.value }
        for field in add { fields.append(field) }
    }
}
