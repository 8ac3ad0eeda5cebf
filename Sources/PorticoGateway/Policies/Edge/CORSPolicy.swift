import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The CORS protocol of the Fetch standard, decided by the gateway.
///
/// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
/// before auth (browsers send preflights without credentials) and without calling the upstream.
/// Other requests from an allowed origin get `Access-Control-Allow-Origin` and the rest on every
/// answer, the gateway's errors included; the upstream's own `Access-Control-*` fields are
/// replaced, so the config alone decides. Answers always carry `Vary: Origin` unless every origin
/// gets `*`, so no shared cache hands one origin's answer to another.
struct CORSPolicy: FastPolicy {
    let phase = PolicyPhase.request
    /// Before auth (5000): a preflight carries no credential. After IP rules (7000).
    let priority = 6_000
    let matcher: OriginMatcher
    let credentials: Bool
    let refuse: Bool
    /// Methods a preflight may name; nil means any (a route for every method).
    let methods: Set<String>?
    let allowMethods: String?
    /// Header names a preflight may name, lower case; nil reflects whatever it names.
    let headers: Set<String>?
    let allowHeaders: String?
    let exposeHeaders: String?
    let maxAge: String?
    let requestIDHeader: HTTPField.Name
    /// The answer fields of each exact origin, and of `*`, made once: most requests allocate none.
    let preparedFields: [String: [HTTPField]]
    let wildcardFields: [HTTPField]
    /// The answer fields after `Access-Control-Allow-Origin`, the same for every origin.
    let answerTail: [HTTPField]
    /// Origins that a wildcard or expression allowed lately, with their fields.
    let matched = MatchedOrigins()
    /// The fields every allowed preflight answer carries, whatever the origin.
    let preflightFields: [HTTPField]
    static let preflightVary = HTTPField(
        name: .vary, value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")

    static let requestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let requestHeaders = HTTPField.Name("Access-Control-Request-Headers")!
    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowCredentials = HTTPField.Name("Access-Control-Allow-Credentials")!
    static let allowMethodsName = HTTPField.Name("Access-Control-Allow-Methods")!
    static let allowHeadersName = HTTPField.Name("Access-Control-Allow-Headers")!
    static let exposeHeadersName = HTTPField.Name("Access-Control-Expose-Headers")!
    static let maxAgeName = HTTPField.Name("Access-Control-Max-Age")!
    static let origin = HTTPField.Name("Origin")!
    /// The methods a browser sends without asking (Fetch's CORS-safelisted methods).
    static let safelisted: Set<String> = ["GET", "HEAD", "POST"]

    init(config: CORSConfig, routeMethods: Set<String>, requestIDHeader: HTTPField.Name) {
        self.requestIDHeader = requestIDHeader
        self.matcher = OriginMatcher(config.origins)
        self.credentials = config.credentials
        self.refuse = config.refuse
        let methods = config.methods.isEmpty ? routeMethods : Set(config.methods)
        self.methods = methods.isEmpty ? nil : methods.union(methods.contains("GET") ? ["HEAD"] : [])
        self.allowMethods = methods.isEmpty ? nil : methods.sorted().joined(separator: ", ")
        let reflect = config.headers.isEmpty || config.headers.contains("*")
        self.headers = reflect ? nil : Set(config.headers.map { $0.lowercased() })
        self.allowHeaders = reflect ? nil : config.headers.joined(separator: ", ")
        self.exposeHeaders = config.exposeHeaders.isEmpty ? nil : config.exposeHeaders.joined(separator: ", ")
        self.maxAge = config.maxAge.map { String($0.milliseconds / 1000) }
        var prepared: [String: [HTTPField]] = [:]
        for case .exact(let origin) in config.origins {
            prepared[origin] = Self.answerFields(
                origin: origin, credentials: config.credentials, exposeHeaders: exposeHeaders)
        }
        self.preparedFields = prepared
        self.wildcardFields = Self.answerFields(
            origin: "*", credentials: config.credentials, exposeHeaders: exposeHeaders)
        self.answerTail = Array(wildcardFields.dropFirst()) + [Self.varyOrigin]
        var preflight: [HTTPField] = []
        if let allowHeaders { preflight.append(HTTPField(name: Self.allowHeadersName, value: allowHeaders)) }
        if let maxAge { preflight.append(HTTPField(name: Self.maxAgeName, value: maxAge)) }
        self.preflightFields = preflight
    }

    /// The origin a request names. A request with several `Origin` lines gets its first, as
    /// browsers send one; the gateway's guard has already refused malformed heads.
    static func origin(of head: HTTPRequest) -> String? {
        head.headerFields.firstValue(origin)
    }

    static func isPreflight(_ head: HTTPRequest) -> Bool {
        head.method == .options && head.headerFields.firstValue(origin) != nil
            && head.headerFields.firstValue(requestMethod) != nil
    }

    /// The answer fields for `origin`, or nil when it is not allowed; a listed exact origin
    /// costs one lookup.
    private func allowedFields(for origin: String) -> [HTTPField]? {
        if let prepared = preparedFields[origin] { return prepared }
        if let seen = matched.fields(for: origin) { return seen }
        // The exact origins are the prepared ones: the matcher need not look them up again.
        guard let allowed = matcher.allows(origin, exactChecked: true) else { return nil }
        let fields = answerFields(origin: allowed && !credentials && matcher.allowsAll ? "*" : origin)
        matched.keep(fields, for: origin)
        return fields
    }

    /// What `Access-Control-Allow-Origin` says to `origin`, or nil when it is not allowed.
    private func allowedValue(for origin: String?) -> String? {
        guard let origin, let allowed = matcher.allows(origin) else { return nil }
        return allowed && !credentials && matcher.allowsAll ? "*" : origin
    }

    /// The fields an answer to an allowed origin carries.
    private func answerFields(origin: String) -> [HTTPField] {
        if origin == "*" { return wildcardFields }
        if let prepared = preparedFields[origin] { return prepared }
        var fields = [HTTPField(name: Self.allowOrigin, value: origin)]
        fields.append(contentsOf: answerTail)
        return fields
    }

    /// With `Vary: Origin` unless the answer is `*`, so the gateway's errors carry it too.
    private static func answerFields(origin: String, credentials: Bool, exposeHeaders: String?) -> [HTTPField] {
        var fields = [HTTPField(name: allowOrigin, value: origin)]
        if credentials { fields.append(HTTPField(name: allowCredentials, value: "true")) }
        if let exposeHeaders { fields.append(HTTPField(name: exposeHeadersName, value: exposeHeaders)) }
        if origin != "*" { fields.append(varyOrigin) }
        return fields
    }

    /// The lower-cased, trimmed names of `Access-Control-Request-Headers`, or nil when one is
    /// not a token.
    static func askedHeaders(_ value: String?) -> [String]? {
        guard let value else { return [] }
        var names: [String] = []
        for part in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            let trimmed = part.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
            guard !trimmed.isEmpty else { continue }
            let name = String(decoding: trimmed, as: UTF8.self).lowercased()
            guard HTTPMethodName.isToken(name) else { return nil }
            names.append(name)
        }
        return names
    }

    /// The answer to a preflight, or the refusal when the config says to refuse.
    func preflight(_ head: HTTPRequest, exchange: Exchange) -> Result<HTTPResponse, GatewayError> {
        var answer = HTTPResponse(status: .noContent)
        answer.headerFields.append(HTTPField(name: requestIDHeader, value: exchange.requestID))
        answer.headerFields.append(Self.preflightVary)
        let origin = Self.origin(of: head)
        let method = head.headerFields[Self.requestMethod] ?? ""
        let asked = Self.askedHeaders(head.headerFields[Self.requestHeaders])
        guard let allowOrigin = allowedValue(for: origin) else {
            return refuse
                ? .failure(.denied("The origin \(origin ?? "(none)") may not call this API from a browser."))
                : .success(answer)
        }
        let methodAllowed =
            methods.map { $0.contains(method) || Self.safelisted.contains(method) } ?? HTTPMethodName.isToken(method)
        let headersAllowed = asked.map { names in names.allSatisfy { headers?.contains($0) ?? true } } ?? false
        guard methodAllowed, headersAllowed, let asked else {
            return refuse
                ? .failure(.denied("This API does not allow the method or headers the browser asked for."))
                : .success(answer)
        }
        answer.headerFields.append(contentsOf: answerFields(origin: allowOrigin).filter { $0.name != .vary })
        answer.headerFields.append(HTTPField(name: Self.allowMethodsName, value: allowMethods ?? method))
        if allowHeaders == nil, !asked.isEmpty {
            answer.headerFields.append(HTTPField(name: Self.allowHeadersName, value: asked.joined(separator: ", ")))
        }
        answer.headerFields.append(contentsOf: preflightFields)
        return .success(answer)
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        if Self.isPreflight(head) {
            switch preflight(head, exchange: exchange) {
            case .success(let answer): return .answer(answer)
            case .failure(let error): return .refuse(error)
            }
        }
        guard let origin = Self.origin(of: head) else { return .proceed }
        if let fields = allowedFields(for: origin) {
            // The response phase and the error renderers both add these.
            exchange.errorFields = fields
        } else if refuse {
            return .refuse(.denied("The origin \(origin) may not call this API from a browser."))
        }
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        // One pass over the fields finds whether the upstream sent any CORS field and a Vary;
        // removing looks for each name again, so it is done only when there is one.
        var upstreamCORS = false
        var vary = false
        for field in head.headerFields {
            if field.name == .vary {
                vary = true
            } else if field.name.canonicalName.utf8.starts(with: Self.accessControl) {
                upstreamCORS = true
            }
        }
        if upstreamCORS {
            head.headerFields[Self.allowOrigin] = nil
            head.headerFields[Self.allowCredentials] = nil
            head.headerFields[Self.exposeHeadersName] = nil
        }
        // Decided in the request phase: the fields for an allowed origin (with `Vary: Origin`
        // unless they say `*`), or none.
        let decided = exchange.errorFields
        if !decided.isEmpty {
            head.headerFields.append(contentsOf: decided)
            return
        }
        guard !(matcher.allowsAll && !credentials) else { return }
        if vary { Self.addVary("Origin", to: &head.headerFields) } else { head.headerFields.append(Self.varyOrigin) }
    }

    static let accessControl = Array("access-control-".utf8)
    static let varyOrigin = HTTPField(name: .vary, value: "Origin")

    /// Adds `name` to `Vary` unless it is there already or `Vary` is `*`.
    static func addVary(_ name: String, to fields: inout HTTPFields) {
        guard fields.firstValue(.vary) != nil else {
            fields.append(HTTPField(name: .vary, value: name))
            return
        }
        let existing = fields[values: .vary].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard !existing.contains("*"), !existing.contains(name.lowercased()) else { return }
        fields.append(HTTPField(name: .vary, value: name))
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var head = request.head
        switch admit(&head, exchange: exchange) {
        case .answer(let answer): return Response(status: answer.status, headers: answer.headerFields, body: .init())
        case .refuse(let error): throw error
        case .proceed, .wait, .slow: break
        }
        var response = try await next(request, exchange: exchange)
        var answer = HTTPResponse(status: response.status, headerFields: response.headers)
        respond(&answer, exchange: exchange)
        response.headers = answer.headerFields
        return response
    }
}
