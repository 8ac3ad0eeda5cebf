import Hummingbird
import PorticoConfig
@testable import PorticoGateway
import Testing

@Suite("Route table")
struct RouteTableTests {
    func route(_ template: String, _ methods: [String] = [], api: String = "a") -> (host: String?, route: CompiledRoute) {
        (nil, CompiledRoute(
            apiName: api, apiVersion: nil, name: "\(methods.joined(separator: ",")) \(template)", template: template,
            methods: Set(methods), basePath: "/", stripBasePath: true, versioning: .init(), isDefaultVersion: false, chain: PolicyChain(policies: [], terminal: Unanswered())))
    }

    /// A terminal stage for routes that are only matched, never run.
    struct Unanswered: Policy {
        let phase = PolicyPhase.upstream
        let priority = 0
        func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
            throw GatewayError.noRoute
        }
    }

    func matched(_ table: RouteTable, _ method: String, _ path: String, host: String? = nil) -> String? {
        if case .route(let route) = table.match(host: host, method: method, path: path) { return route.name }
        return nil
    }

    @Test("the longest literal prefix wins over parameters and rest routes")
    func precedence() {
        let table = RouteTable(routes: [
            route("/api/**"),
            route("/api/users/{id}", ["GET"]),
            route("/api/users/me", ["GET"]),
            route("/api/users/{id}/orders", ["GET"]),
        ])
        #expect(matched(table, "GET", "/api/users/me") == "GET /api/users/me")
        #expect(matched(table, "GET", "/api/users/42") == "GET /api/users/{id}")
        #expect(matched(table, "GET", "/api/users/42/orders") == "GET /api/users/{id}/orders")
        #expect(matched(table, "GET", "/api/users/42/other") == " /api/**")
        #expect(matched(table, "POST", "/api/users/42") == " /api/**")
        #expect(matched(table, "GET", "/api") == " /api/**")
        #expect(matched(table, "GET", "/apis") == nil)
    }

    @Test("a literal that dead-ends falls back to a parameter")
    func backtracking() {
        let table = RouteTable(routes: [route("/a/b/c", ["GET"]), route("/a/{x}/d", ["GET"])])
        #expect(matched(table, "GET", "/a/b/d") == "GET /a/{x}/d")
    }

    @Test("405 lists the methods of the path, with HEAD for GET")
    func methodNotAllowed() {
        let table = RouteTable(routes: [route("/items/{id}", ["GET", "PUT"]), route("/items/{id}", ["DELETE"], api: "b")])
        guard case .methodNotAllowed(let allowed) = table.match(host: nil, method: "POST", path: "/items/1") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["DELETE", "GET", "HEAD", "PUT"])
        #expect(matched(table, "HEAD", "/items/1") == "GET,PUT /items/{id}")
    }

    @Test("host-specific routes win over host-less ones; ports are ignored")
    func hosts() {
        var special = route("/x", ["GET"], api: "special")
        special.host = "api.example.com"
        var wildcard = route("/x", ["GET"], api: "wild")
        wildcard.host = "*.example.com"
        let table = RouteTable(routes: [route("/x", ["GET"]), special, wildcard])
        func api(_ host: String) -> String? {
            if case .route(let route) = table.match(host: host, method: "GET", path: "/x") { return route.apiName }
            return nil
        }
        #expect(api("api.example.com:8080") == "special")
        #expect(api("www.example.com") == "wild")
        #expect(api("other.test") == "a")
    }
}

