import HTTPTypes
import Hummingbird
import PorticoConfig

/// `request-transform` and `response-transform` of headers, query parameters and the upstream
/// path, with values rendered from the request (`${consumer.name}`, `${path.id}`). Bodies are
/// `BodyTransformPolicy`'s. After auth and the cache, so templates see the consumer and the
/// cache key the client's request.
struct TransformPolicy: FastPolicy {
    let phase = PolicyPhase.request
    let priority = 90
    let requestHeaders: HeaderEdits?
    let query: TemplateRules?
    let path: ValueTemplate?
    let responseHeaders: HeaderEdits?
    let renderer: TemplateRenderer
    /// The API's base path when it is stripped before forwarding: a rewritten path goes below it.
    let strippedPrefix: String?

    init?(request: TransformConfig?, response: TransformConfig?, renderer: TemplateRenderer, strippedPrefix: String?) {
        let requestHeaders = request.flatMap { $0.headers.isEmpty ? nil : HeaderEdits($0.headers) }
        let query = request.flatMap { $0.query.isEmpty ? nil : $0.query }
        let responseHeaders = response.flatMap { $0.headers.isEmpty ? nil : HeaderEdits($0.headers) }
        guard requestHeaders != nil || query != nil || request?.path != nil || responseHeaders != nil else {
            return nil
        }
        self.requestHeaders = requestHeaders
        self.query = query
        self.path = request?.path
        self.responseHeaders = responseHeaders
        self.renderer = renderer
        self.strippedPrefix = strippedPrefix == "/" ? nil : strippedPrefix
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        requestHeaders?.apply(to: &head.headerFields, renderer: renderer, exchange: exchange)
        guard path != nil || query != nil else { return .proceed }
        var target = head.path ?? "/"
        if let path {
            let query = target.utf8.firstIndex(of: UInt8(ascii: "?")).map {
                String(Substring(target.utf8[target.utf8.index(after: $0)...]))
            }
            target = (strippedPrefix ?? "") + renderer.render(path, exchange: exchange, for: .url)
            if let query, !query.isEmpty { target += (target.contains("?") ? "&" : "?") + query }
        }
        if let query {
            for (from, to) in query.rename { target = QueryParameter.renaming(from, to: to, in: target) }
            for name in query.remove { target = QueryParameter.removing(name, from: target) }
            for (name, value) in query.set {
                target = QueryParameter.appending(
                    name, value: renderer.render(value, exchange: exchange, for: .text),
                    to: QueryParameter.removing(name, from: target))
            }
            for (name, value) in query.add {
                target = QueryParameter.appending(
                    name, value: renderer.render(value, exchange: exchange, for: .text), to: target)
            }
        }
        head.path = target
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        responseHeaders?.apply(to: &head.headerFields, renderer: renderer, exchange: exchange)
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var head = request.head
        _ = admit(&head, exchange: exchange)
        var response = try await next(Request(head: head, body: request.body), exchange: exchange)
        if let responseHeaders { responseHeaders.apply(to: &response.headers, renderer: renderer, exchange: exchange) }
        return response
    }
}

/// Header edits with their names parsed once: rename, remove, set, add.
struct HeaderEdits: Sendable {
    let rename: [(from: HTTPField.Name, to: HTTPField.Name)]
    let remove: [HTTPField.Name]
    let set: [(name: HTTPField.Name, value: ValueTemplate)]
    let add: [(name: HTTPField.Name, value: ValueTemplate)]

    /// Constant values as whole fields, made once.
    let constants: [HTTPField.Name: HTTPField]

    init(_ rules: TemplateRules) {
        self.rename = rules.rename.compactMap { pair in
            HTTPField.Name(pair.from).flatMap { from in HTTPField.Name(pair.to).map { (from, $0) } }
        }
        self.remove = rules.remove.compactMap { HTTPField.Name($0) }
        self.set = rules.set.compactMap { pair in HTTPField.Name(pair.name).map { ($0, pair.value) } }
        self.add = rules.add.compactMap { pair in HTTPField.Name(pair.name).map { ($0, pair.value) } }
        var constants: [HTTPField.Name: HTTPField] = [:]
        for (name, value) in set + add where value.isConstant {
            constants[name] = HTTPField(name: name, value: value.description)
        }
        self.constants = constants
    }

    private func field(
        _ name: HTTPField.Name, _ value: ValueTemplate, renderer: TemplateRenderer, exchange: Exchange
    ) -> HTTPField {
        if value.isConstant, let field = constants[name] { return field }
        return HTTPField(name: name, value: renderer.render(value, exchange: exchange, for: .header))
    }

    func apply(to fields: inout HTTPFields, renderer: TemplateRenderer, exchange: Exchange) {
        for (from, to) in rename {
            let values = fields[values: from]
            guard !values.isEmpty else { continue }
            fields[from] = nil
            fields[values: to] = values
        }
        for name in remove where fields.contains(name) { fields[name] = nil }
        for (name, value) in set {
            let field = field(name, value, renderer: renderer, exchange: exchange)
            if fields.contains(name) {
                fields[name] = field.value
            } else {
                fields.append(field)
            }
        }
        for (name, value) in add { fields.append(field(name, value, renderer: renderer, exchange: exchange)) }
    }
}
