import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoGateway

/// The developer portal on the data-plane listener, under `portal.path`: the static pages and,
/// under `<path>/api`, the JSON API that feeds them.
///
/// - `GET …/api/portal`, `…/api/catalog`, `…/api/apis/{api}/{version}` (the operation index),
///   `…/operations/{id}`, `…/schemas/{name}` and `…/api/search?q=`: the docs, public.
/// - `GET …/api/session`, `POST …/api/signup`, `…/signin`, `…/signout`, and `…/api/apps` with
///   their keys: self-service, with a session cookie and a CSRF token (`PortalAccounts`).
/// - `GET …/api/me/limits`, `…/me/usage`, `…/me/usage/top` and `…/me/calls`: the caller's own
///   limits and the admin API's analytics queries limited to their consumer. The caller is the
///   signed-in developer, or whoever a configured auth method recognizes.
struct PortalAPI: GatewayMount {
    let portal: PortalConfig
    let prefix: String
    let authenticators: [any Authenticator]
    let authMethods: [AuthMethodConfig]
    let consumers: ConsumerLookup
    let requestIDHeader: HTTPField.Name
    /// The call store's queries; nil when the gateway runs without one (benchmarks).
    let analytics: AnalyticsAnswers?
    /// Accounts and apps; nil without a store.
    let accounts: PortalAccounts?
    let catalog: PortalCatalogLoader
    let files: PortalFiles

    init(
        config: GatewayConfig, portal: PortalConfig, authenticators: [String: any Authenticator],
        consumers: ConsumerLookup,
        requestIDHeader: HTTPField.Name, analytics: AnalyticsAnswers?, failures: AuthFailures = AuthFailures()
    ) {
        self.portal = portal
        self.prefix = portal.path + "/api"
        self.authenticators = config.auth.map(\.name).compactMap { authenticators[$0] }
        self.authMethods = config.auth
        self.consumers = consumers
        self.requestIDHeader = requestIDHeader
        self.analytics = analytics
        self.accounts = analytics.map {
            PortalAccounts(store: $0.store, portal: portal, directory: consumers.directory, failures: failures)
        }
        self.catalog = PortalCatalogLoader(config: config)
        self.files = portal.files.map(PortalFiles.init(folder:)) ?? .embedded
    }

    /// On its own host (`portal.host`) the portal alone answers; elsewhere it answers under
    /// `portal.path` and nothing else.
    func claim(host: String?, path: String) -> MountClaim {
        let onPortalHost = isPortalHost(host)
        if onPortalHost == true, !handles(path) { return .refuse }
        return handles(path) && onPortalHost != false ? .serve : .pass
    }

    func handles(_ path: String) -> Bool {
        path == portal.path || path.hasPrefix(portal.path + "/")
    }

    /// Whether a request for `host` is the portal's: any host without `portal.host`, else that one.
    func isPortalHost(_ host: String?) -> Bool? {
        guard let own = portal.host else { return nil }
        return host.map { RouteTable.bareHost($0).lowercased() == own } ?? false
    }

    static let endpoints = ["/me/limits", "/me/usage", "/me/usage/top", "/me/calls"]

    /// - Parameter clientAddress: the caller's address (behind a trusted proxy, the one it names),
    ///   which sign-up and sign-in count tries against.
    func respond(
        to request: Request, requestID: String, snapshot: RuntimeSnapshot, clientAddress: String?
    ) async throws -> Response {
        let path = request.uri.path
        guard path == prefix || path.hasPrefix(prefix + "/") else {
            return try pageResponse(request, requestID: requestID)
        }
        let parts = path.dropFirst(prefix.count).split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        let isRead = request.method == .get || request.method == .head
        switch (parts.first ?? "", parts.count) {
        case ("portal", 1):
            try requireRead(request)
            return json(info)
        case ("catalog", 1):
            try requireRead(request)
            return json(await catalog.catalog.catalogJSON)
        case ("search", 1):
            try requireRead(request)
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            return json(await catalog.catalog.search(query))
        case ("apis", 3), ("apis", 5):
            try requireRead(request)
            return json(try await docsPage(parts))
        case ("me", _):
            guard Self.endpoints.contains("/" + parts.joined(separator: "/")) else {
                throw GatewayError.notFound("The portal API has no \(path).")
            }
            try requireRead(request)
            return try await usage("/" + parts.joined(separator: "/"), request: request, snapshot: snapshot)
        case ("session", 1), ("signup", 1), ("signin", 1), ("signout", 1), ("apps", _):
            guard let accounts else {
                throw GatewayError.notFound("This gateway keeps no store, so the portal has no accounts.")
            }
            return try await self.accounts(
                accounts, parts: parts, request: request, isRead: isRead, clientAddress: clientAddress)
        default:
            throw GatewayError.notFound("The portal API has no \(path).")
        }
    }

    private func requireRead(_ request: Request) throws {
        guard request.method == .get || request.method == .head else {
            throw GatewayError.methodNotAllowed(allowed: ["GET", "HEAD"])
        }
    }

    func json(_ text: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        .json(text, status: status, adding: HTTPFields(cookies.map { HTTPField(name: .setCookie, value: $0) }))
    }

    /// The portal's name, sign-up mode and the auth methods a try-it request can use.
    private var info: String {
        let methods: [JSONValue] = authMethods.map { .object([("name", .string($0.name))] + Self.describe($0)) }
        return JSONValue.object([
            ("title", .string(portal.title)), ("path", .string(portal.path)),
            ("signup", .string(portal.signup.rawValue)),
            ("accounts", .bool(accounts != nil)), ("auth", .array(methods)),
        ]).jsonText
    }

    /// `type`, and where the credential goes, of an auth method.
    static func describe(_ method: AuthMethodConfig) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [("type", .string(method.typeName))]
        switch method.kind {
        case .apiKey(let key):
            fields.append(("header", .string(key.header)))
            if let query = key.query { fields.append(("query", .string(query))) }
        case .jwt, .introspection:
            fields.append(("header", .string("Authorization")))
            fields.append(("scheme", .string("Bearer")))
        case .basic:
            fields.append(("header", .string("Authorization")))
            fields.append(("scheme", .string("Basic")))
        case .mtls:
            fields.append(("scheme", .string("client certificate")))
        }
        return fields
    }

    /// `apis/{api}/{version}` or `apis/{api}/{version}/operations|schemas/{id}`; `-` is the version of an unversioned API.
    private func docsPage(_ parts: [String]) async throws -> String {
        let version = parts[2] == "-" ? "" : parts[2]
        guard let docs = await catalog.catalog.docs[parts[1]]?[version] else {
            throw GatewayError.notFound("No API '\(parts[1])' with version '\(parts[2])'.")
        }
        guard parts.count == 5 else { return docs.indexJSON }
        switch parts[3] {
        case "operations":
            guard let page = docs.operations[parts[4]] else {
                throw GatewayError.notFound("No operation '\(parts[4])' in this API.")
            }
            return page
        case "schemas":
            guard let page = docs.schemas[parts[4]] else {
                throw GatewayError.notFound("No schema '\(parts[4])' in this API.")
            }
            return page
        default:
            throw GatewayError.notFound("The portal API has no such page.")
        }
    }

    /// A static page; `<path>` itself redirects to `<path>/` so relative links resolve.
    private func pageResponse(_ request: Request, requestID: String) throws -> Response {
        try requireRead(request)
        let path = request.uri.path
        if path == portal.path {
            return Response(
                status: .permanentRedirect, headers: [.location: portal.path + "/", requestIDHeader: requestID])
        }
        let name = String(path.dropFirst(portal.path.count + 1))
        guard !name.contains("/"),
            let response = files.response(
                for: name, request: request, requestID: requestID, requestIDHeader: requestIDHeader)
        else { throw GatewayError.notFound("The portal has no page \(path).") }
        return response
    }

    private func accounts(
        _ accounts: PortalAccounts, parts: [String], request: Request, isRead: Bool, clientAddress: String?
    ) async throws -> Response {
        let visitor = try await accounts.visitor(of: request)
        if parts == ["session"] {
            try requireRead(request)
            let answer = accounts.session(visitor: visitor)
            return json(answer.json, cookies: answer.cookies)
        }
        if !isRead { try accounts.checkCSRF(request, visitor: visitor) }
        let body = isRead ? [:] : try await request.jsonObject()
        switch parts[0] {
        case "signup", "signin":
            guard request.method == .post else { throw GatewayError.methodNotAllowed(allowed: ["POST"]) }
            if parts[0] == "signup" {
                return json(try await accounts.signUp(body, address: clientAddress), status: .accepted, cookies: [])
            }
            let answer = try await accounts.signIn(body, visitor: visitor, address: clientAddress)
            return json(answer.json, status: .ok, cookies: answer.cookies)
        case "signout":
            guard request.method == .post else { throw GatewayError.methodNotAllowed(allowed: ["POST"]) }
            return json("{\"signed_in\":false}", cookies: try await accounts.signOut(visitor: visitor))
        default:
            break
        }
        guard let session = visitor.session else { throw GatewayError.denied("Sign in to the portal first.") }
        let number = { (index: Int) throws -> Int64 in
            guard let value = Int64(parts[index]) else { throw GatewayError.notFound("No such app or key.") }
            return value
        }
        switch (parts.count, request.method) {
        case (1, .get), (1, .head): return json(try await accounts.apps(of: session))
        case (1, .post): return json(try await accounts.createApp(body, session: session), status: .created)
        case (3, .post) where parts[2] == "keys":
            return json(try await accounts.createKey(app: try number(1), session: session), status: .created)
        case (5, .post) where parts[2] == "keys" && parts[4] == "rotate":
            return json(
                try await accounts.rotateKey(try number(3), app: try number(1), body: body, session: session),
                status: .created)
        case (5, .post) where parts[2] == "keys" && parts[4] == "revoke":
            try await accounts.revokeKey(try number(3), app: try number(1), session: session)
            return json("{\"revoked\":true}")
        case (1, _): throw GatewayError.methodNotAllowed(allowed: ["GET", "HEAD", "POST"])
        case (3, _) where parts[2] == "keys", (5, _) where parts[2] == "keys":
            throw GatewayError.methodNotAllowed(allowed: ["POST"])
        default: throw GatewayError.notFound("The portal API has no \(request.uri.path).")
        }
    }

    /// The `me/*` endpoints, for the signed-in developer or a credential's consumer.
    private func usage(_ endpoint: String, request: Request, snapshot: RuntimeSnapshot) async throws -> Response {
        var identity: Identity?
        if let accounts, let visitor = try? await accounts.visitor(of: request) {
            identity = accounts.identity(of: visitor, consumers: consumers)
        }
        if identity == nil {
            for method in authenticators {
                if case .authenticated(let found) = await method.authenticate(request, consumers: consumers) {
                    identity = found
                    break
                }
            }
        }
        guard let identity else { throw GatewayError.unauthenticated(challenges: authenticators.map(\.challenge)) }
        let document: AnalyticsAnswers.Document
        switch endpoint {
        case "/me/limits":
            document = .init(text: try await limits(of: identity, snapshot: snapshot), contentType: "application/json")
        default:
            guard let analytics else { throw GatewayError.notFound("This gateway keeps no call store.") }
            let query = AnalyticsQuery(request.uri.queryParameters)
            switch endpoint {
            case "/me/usage": document = try await analytics.timeSeries(query, consumer: identity.consumer)
            case "/me/usage/top":
                document = try await analytics.top(
                    query, consumer: identity.consumer, dimensions: [.route, .status, .version, .api])
            default: document = try await analytics.calls(query, consumer: identity.consumer)
            }
        }
        return Response(
            status: .ok, headers: [.contentType: document.contentType, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: document.text)))
    }

    /// The caller's limits, as `{"consumer", "plan", "limits": [...]}`.
    private func limits(of identity: Identity, snapshot: RuntimeSnapshot) async throws -> String {
        let now = snapshot.limits.clock()
        var states: [LimitDecision] = []
        let plan = identity.plan.flatMap { snapshot.planLimits[$0] }
        let byConsumer = snapshot.allLimits.filter { $0.by == [.consumer] }
        states += try await snapshot.limits.store.peek(identity.consumer, limits: byConsumer, now: now)
        if let credential = identity.credential {
            states += try await snapshot.limits.store.peek(
                credential, limits: snapshot.allLimits.filter { $0.by == [.credential] }, now: now)
        }
        // A plan not charged yet has its full allowance; show it too.
        if let plan, !states.contains(where: { $0.policy == plan.name || $0.policy == plan.quotaName }) {
            var fresh = CompiledLimit.Entry()
            states = plan.apply(to: &fresh, cost: 0, now: now) + states
        }
        var json =
            "{\"consumer\":\(JSONText.quote(identity.consumer)),\"plan\":"
            + (identity.plan.map(JSONText.quote) ?? "null")
        json += ",\"limits\":[" + states.map(\.json).joined(separator: ",") + "]}"
        return json
    }
}
