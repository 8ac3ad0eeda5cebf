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
    }

    /// The origin a request names, when it names exactly one.
    static func origin(of head: HTTPRequest) -> String? {
        let values = head.headerFields[values: origin]
        return values.count == 1 ? values[0] : nil
    }

    static func isPreflight(_ head: HTTPRequest) -> Bool {
        head.method == .options && head.headerFields[origin] != nil && head.headerFields[requestMethod] != nil
    }

    /// What `Access-Control-Allow-Origin` says to `origin`, or nil when it is not allowed.
    private func allowedValue(for origin: String?) -> String? {
        guard let origin, let allowed = matcher.allows(origin) else { return nil }
        return allowed && !credentials && matcher.allowsAll ? "*" : origin
    }

    /// The fields an answer to an allowed origin carries.
    private func answerFields(origin: String) -> [HTTPField] {
        var fields = [HTTPField(name: Self.allowOrigin, value: origin)]
        if credentials { fields.append(HTTPField(name: Self.allowCredentials, value: "true")) }
        if let exposeHeaders { fields.append(HTTPField(name: Self.exposeHeadersName, value: exposeHeaders)) }
        return fields
    }

    /// The answer to a preflight, or the refusal when the config says to refuse.
    func preflight(_ head: HTTPRequest, exchange: Exchange) -> Result<HTTPResponse, GatewayError> {
        var answer = HTTPResponse(status: .noContent)
        answer.headerFields[requestIDHeader] = exchange.requestID
        answer.headerFields[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        let origin = Self.origin(of: head)
        let method = head.headerFields[Self.requestMethod] ?? ""
        let asked = (head.headerFields[Self.requestHeaders] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
        guard let allowOrigin = allowedValue(for: origin) else {
            return refuse ? .failure(.denied("The origin \(origin ?? "(none)") may not call this API from a browser.")) : .success(answer)
        }
        let methodAllowed = methods.map { $0.contains(method) || Self.safelisted.contains(method) } ?? HTTPMethodName.isToken(method)
        let headersAllowed = asked.allSatisfy { name in HTTPMethodName.isToken(name) && (headers?.contains(name) ?? true) }
        guard methodAllowed, headersAllowed else {
            return refuse ? .failure(.denied("This API does not allow the method or headers the browser asked for.")) : .success(answer)
        }
        answer.headerFields.append(contentsOf: answerFields(origin: allowOrigin))
        answer.headerFields[Self.allowMethodsName] = allowMethods ?? method
        if let value = allowHeaders ?? (asked.isEmpty ? nil : asked.joined(separator: ", ")) {
            answer.headerFields[Self.allowHeadersName] = value
        }
        if let maxAge { answer.headerFields[Self.maxAgeName] = maxAge }
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
        if let allowed = allowedValue(for: origin) {
            exchange.errorFields = answerFields(origin: allowed) + (allowed == "*" ? [] : [HTTPField(name: .vary, value: "Origin")])
        } else if refuse {
            return .refuse(.denied("The origin \(origin) may not call this API from a browser."))
        }
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        head.headerFields[Self.allowOrigin] = nil
        head.headerFields[Self.allowCredentials] = nil
        head.headerFields[Self.exposeHeadersName] = nil
        if let allowed = allowedValue(for: Self.origin(of: exchange.request)) {
            head.headerFields.append(contentsOf: answerFields(origin: allowed))
        }
        if !(matcher.allowsAll && !credentials) { Self.addVary("Origin", to: &head.headerFields) }
    }

    /// Adds `name` to `Vary` unless it is there already or `Vary` is `*`.
    static func addVary(_ name: String, to fields: inout HTTPFields) {
        let existing = fields[values: .vary].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !existing.contains("*"), !existing.contains(name.lowercased()) else { return }
        fields.append(HTTPField(name: .vary, value: name))
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var head = request.head
        switch admit(&head, exchange: exchange) {
        case .answer(let answer): return Response(status: answer.status, headers: answer.headerFields, body: .init())
        case .refuse(let error): throw error
        case .proceed, .slow: break
        }
        var response = try await next(request, exchange: exchange)
        var answer = HTTPResponse(status: response.status, headerFields: response.headers)
        respond(&answer, exchange: exchange)
        response.headers = answer.headerFields
        return response
    }
}
