import Hummingbird
import PorticoConfig
import Testing

@testable import PorticoGateway

@Suite("Route table")
struct RouteTableTests {
    func route(_ template: String, _ methods: [String] = [], api: String = "a") -> (host: String?, route: CompiledRoute)
    {
        (
            nil,
            CompiledRoute(
                apiName: api, apiVersion: nil, name: "\(methods.joined(separator: ",")) \(template)",
                template: template,
                methods: Set(methods), basePath: "/", stripBasePath: true, versioning: .init(), isDefaultVersion: false,
                chain: PolicyChain(policies: [], terminal: Unanswered()))
        )
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

    @Test(
        "parameters inside a segment: literal parts first, then the pattern with more literal text, then a whole-segment parameter"
    )
    func segmentPatterns() throws {
        let table = RouteTable(routes: [
            route("/2010-04-01/Accounts/{Sid}.json", ["GET"]),
            route("/files/{name}", ["GET"]),
            route("/files/{name}.{ext}", ["GET"]),
            route("/files/{name}.tar.gz", ["GET"]),
            route("/files/readme.txt", ["GET"]),
            route("/repos/{owner}-{repo}/issues", ["GET"]),
        ])
        #expect(matched(table, "GET", "/2010-04-01/Accounts/AC123.json") == "GET /2010-04-01/Accounts/{Sid}.json")
        #expect(matched(table, "GET", "/2010-04-01/Accounts/AC123.xml") == nil)
        #expect(matched(table, "GET", "/2010-04-01/Accounts/.json") == nil, "a parameter is never empty")
        #expect(matched(table, "GET", "/files/readme.txt") == "GET /files/readme.txt")
        #expect(matched(table, "GET", "/files/backup.tar.gz") == "GET /files/{name}.tar.gz")
        #expect(matched(table, "GET", "/files/photo.png") == "GET /files/{name}.{ext}")
        #expect(matched(table, "GET", "/files/photo") == "GET /files/{name}")
        #expect(matched(table, "GET", "/files/.png") == "GET /files/{name}")
        #expect(matched(table, "GET", "/repos/apple-swift/issues") == "GET /repos/{owner}-{repo}/issues")
        #expect(matched(table, "GET", "/repos/apple/issues") == nil)

        let pattern = try SegmentPattern.parse("{name}.{ext}").get()
        #expect(pattern.match("archive.tar.gz")?.map { "\($0.name)=\($0.value)" } == ["name=archive", "ext=tar.gz"])
        let dashed = try SegmentPattern.parse("v{major}-{minor}.json").get()
        #expect(dashed.match("v1-2.json")?.map(\.value) == ["1", "2"])
        #expect(dashed.match("v1-.json") == nil)
        #expect(dashed.match("x1-2.json") == nil)
        // A hostile segment costs one scan per literal part.
        let long = String(repeating: "-", count: 100_000)
        #expect(dashed.match(Substring("v" + long + ".json"))?.map(\.value.count) == [1, 99_998])
        #expect(
            PathParameters.value(
                of: "Sid", template: "/2010-04-01/Accounts/{Sid}.json", path: "/2010-04-01/Accounts/AC%20x.json?a=1")
                == "AC x")
    }

    @Test("templates with bad parameters are refused with the reason")
    func badTemplates() {
        #expect(PathTemplate.problem(in: "/a/{b}{c}")?.contains("literal text between them") == true)
        #expect(PathTemplate.problem(in: "/a/{b")?.contains("without its '}'") == true)
        #expect(PathTemplate.problem(in: "/a/b}")?.contains("without its '{'") == true)
        #expect(PathTemplate.problem(in: "/a/{}.json")?.contains("needs a name") == true)
        #expect(PathTemplate.problem(in: "/a/{id}/b/{id}.json")?.contains("appears twice") == true)
        #expect(PathTemplate.problem(in: "/a/{id}.json") == nil)
        #expect(PathTemplate.shape(of: "/a/{id}.json") == PathTemplate.shape(of: "/a/{key}.json"))
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
        let table = RouteTable(routes: [
            route("/items/{id}", ["GET", "PUT"]), route("/items/{id}", ["DELETE"], api: "b"),
        ])
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
