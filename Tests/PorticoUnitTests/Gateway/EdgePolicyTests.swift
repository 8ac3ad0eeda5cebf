import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import PorticoConfig
import PorticoTesting
import Testing

/// CORS, IP rules and header, query and path transforms through `PolicyHarness`, on both paths:
/// the event-loop path's decision (`sendFast`) must be the streaming path's (`send`).
@Suite("Edge policies: CORS, IP rules, transforms")
struct EdgePolicyTests {
    static let yaml = """
        server: {access-log: false, watch-config: false}
        auth:
          key: {type: api-key}
        consumers:
          - {name: app, groups: [partners, beta], keys: [edge-key-0123456789abcdef]}
          - {name: office, keys: [office-key-0123456789abcdef], ip: {allow: [127.0.0.0/8]}}
        limits: {trusted-proxies: [10.9.0.0/16]}
        upstreams:
          backend: {targets: [{url: "http://127.0.0.1:9"}]}
        apis:
          - name: shop
            base-path: /shop
            upstream: backend
            auth: key
            cors: {origins: ["https://shop.example.com", "https://*.example.com", "~^https://[a-z]+\\\\.test\\\\.org$"], methods: [GET, POST], headers: [Content-Type, Authorization, X-API-Key], expose-headers: [X-Total], credentials: true, max-age: 10m}
            routes:
              - {path: /items, methods: [GET, POST]}
              - {path: "/items/{id}", methods: [GET]}
          - name: strict
            base-path: /strict
            upstream: backend
            cors: {origins: ["https://shop.example.com"], refuse: true}
          - name: open
            base-path: /open
            upstream: backend
            cors: {origins: ["*"]}
          - name: internal
            base-path: /internal
            upstream: backend
            ip: {allow: [10.0.0.0/8, "2001:db8::/32"], deny: [10.6.6.0/24]}
          - name: office-only
            base-path: /office
            upstream: backend
            auth: key
          - name: rewrite
            base-path: /rw
            upstream: backend
            auth: key
            routes:
              - path: /v1/users/{id}
                methods: [GET]
                request-transform:
                  headers: {set: {X-Consumer: "${consumer.name}", X-User: "${path.id}", X-Who: "${query.who}"}, remove: [X-Debug], rename: {X-Old: X-New}, add: {X-Groups: "${consumer.groups}"}}
                  query: {remove: [debug], set: {tag: "${consumer.name} & co"}, rename: {q: search}}
                  path: /users/{id}?version=1
                response-transform:
                  headers: {remove: [Server, X-Powered-By], set: {X-Request: "${request.id}", X-Route: "${route.name}"}}
        """

    static let key: HTTPFields = [HTTPField.Name("X-API-Key")!: "edge-key-0123456789abcdef"]

    static func field(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }

    static func upstream(_ head: HTTPRequest) -> PolicyHarness.Reply {
        PolicyHarness.Reply(
            .ok,
            headers: [
                .server: "upstream/1", field("X-Powered-By"): "php", field("Access-Control-Allow-Origin"): "*",
                .contentType: "text/plain",
            ],
            body: "hello")
    }

    static func preflight(_ path: String, origin: String, method: String, headers: String? = nil) -> HTTPRequest {
        var fields: HTTPFields = [field("Origin"): origin, field("Access-Control-Request-Method"): method]
        if let headers { fields[field("Access-Control-Request-Headers")] = headers }
        return PolicyHarness.request(.options, path, headers: fields)
    }

    /// The same request on both paths; the answers must agree on status and `fields`.
    static func both(
        _ harness: PolicyHarness, _ head: HTTPRequest, peer: String = "127.0.0.1", agreeOn fields: [String] = []
    ) async throws -> (streaming: PolicyHarness.Answer, fast: PolicyHarness.Answer) {
        let streaming = try await harness.send(head, peer: peer, upstream: Self.upstream)
        let fast = try #require(
            harness.sendFast(head, peer: peer, upstream: Self.upstream),
            "the event-loop path passed \(head.method) \(head.path ?? "")")
        #expect(streaming.status == fast.status, "\(head.method) \(head.path ?? "")")
        for name in fields {
            #expect(streaming.head.headerFields[field(name)] == fast.head.headerFields[field(name)], "\(name) differs")
        }
        return (streaming, fast)
    }

    @Test("a preflight is answered before auth, without the upstream, for the methods and headers allowed")
    func preflight() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            let asked = Self.preflight(
                "/shop/items", origin: "https://shop.example.com", method: "POST",
                headers: "content-type, authorization")
            for answer in try await [Self.both(harness, asked).streaming, Self.both(harness, asked).fast] {
                #expect(answer.status == 204)
                #expect(answer.forwarded == nil)
                let fields = answer.head.headerFields
                #expect(fields[Self.field("Access-Control-Allow-Origin")] == "https://shop.example.com")
                #expect(fields[Self.field("Access-Control-Allow-Credentials")] == "true")
                #expect(fields[Self.field("Access-Control-Allow-Methods")] == "GET, POST")
                #expect(fields[Self.field("Access-Control-Allow-Headers")] == "Content-Type, Authorization, X-API-Key")
                #expect(fields[Self.field("Access-Control-Max-Age")] == "600")
                #expect(fields[.vary]?.contains("Origin") == true)
                #expect(fields[Self.field("X-Request-Id")] == "harness-request")
            }
            // The route takes only GET; the preflight is matched as the GET it asks about.
            let single = try await Self.both(
                harness, Self.preflight("/shop/items/7", origin: "https://a.b.example.com", method: "GET"))
            #expect(single.streaming.status == 204)
            #expect(
                single.streaming.head.headerFields[Self.field("Access-Control-Allow-Origin")]
                    == "https://a.b.example.com")
            // A plain OPTIONS to that route is still refused.
            let plain = try await harness.send(
                PolicyHarness.request(.options, "/shop/items/7"), upstream: Self.upstream)
            #expect(plain.status == 405)
        }
    }

    @Test("origins: exact, subdomain wildcard and regular expression, nothing else")
    func origins() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            let allowed = [
                "https://shop.example.com", "https://SHOP.example.com", "https://a.example.com",
                "https://x.y.example.com", "https://abc.test.org",
            ]
            let refused = [
                "https://example.com", "https://evilexample.com", "http://a.example.com", "https://a.example.com:8443",
                "https://a.example.com.evil.net", "https://shop.example.com.evil.net", "https://ab1.test.org",
                "https://abc.test.org.evil",
                "null", "https://a.example.com/", "https://user@a.example.com",
            ]
            for origin in allowed + refused {
                let (streaming, fast) = try await Self.both(
                    harness, Self.preflight("/shop/items", origin: origin, method: "POST"),
                    agreeOn: ["Access-Control-Allow-Origin"])
                #expect(streaming.status == 204)
                let value = fast.head.headerFields[Self.field("Access-Control-Allow-Origin")]
                #expect((value != nil) == allowed.contains(origin), "\(origin): \(value ?? "none")")
            }
        }
    }

    @Test("a preflight for a method or header not allowed gets no CORS fields; refuse: true answers 403")
    func preflightRefused() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            // No route of the path takes DELETE: the 405 any OPTIONS gets, without CORS fields.
            let method = try await harness.send(
                Self.preflight("/shop/items", origin: "https://shop.example.com", method: "DELETE"))
            #expect(method.status == 405)
            #expect(method.head.headerFields[Self.field("Access-Control-Allow-Origin")] == nil)
            #expect(
                harness.sendFast(Self.preflight("/shop/items", origin: "https://shop.example.com", method: "DELETE"))
                    == nil)
            // A route for every method and a CORS config without a method list: any method.
            let put = try await Self.both(harness, Self.preflight("/open/x", origin: "https://a.test", method: "PUT"))
            #expect(put.fast.status == 204)
            #expect(put.fast.head.headerFields[Self.field("Access-Control-Allow-Origin")] == "*")
            let header = try await Self.both(
                harness,
                Self.preflight("/shop/items", origin: "https://shop.example.com", method: "POST", headers: "x-secret"))
            #expect(header.fast.head.headerFields[Self.field("Access-Control-Allow-Origin")] == nil)
            let strict = try await Self.both(
                harness, Self.preflight("/strict/a", origin: "https://evil.example", method: "GET"))
            #expect(strict.fast.status == 403)
            #expect(strict.fast.head.headerFields[.contentType] == "application/problem+json")
            let strictGet = try await Self.both(
                harness,
                PolicyHarness.request(.get, "/strict/a", headers: [Self.field("Origin"): "https://evil.example"]))
            #expect(strictGet.fast.status == 403)
            #expect(strictGet.fast.forwarded == nil)
        }
    }

    @Test(
        "answers to an allowed origin carry the CORS fields, errors too; the upstream's are replaced; Vary: Origin always"
    )
    func actualRequests() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            var fields = Self.key
            fields[Self.field("Origin")] = "https://shop.example.com"
            let ok = try await Self.both(
                harness, PolicyHarness.request(.get, "/shop/items", headers: fields),
                agreeOn: ["Access-Control-Allow-Origin", "Vary"])
            #expect(ok.fast.status == 200)
            #expect(
                ok.fast.head.headerFields[values: Self.field("Access-Control-Allow-Origin")] == [
                    "https://shop.example.com"
                ])
            #expect(ok.fast.head.headerFields[Self.field("Access-Control-Expose-Headers")] == "X-Total")
            #expect(ok.fast.head.headerFields[.vary] == "Origin")

            let unauthenticated = try await Self.both(
                harness,
                PolicyHarness.request(.get, "/shop/items", headers: [Self.field("Origin"): "https://shop.example.com"]),
                agreeOn: ["Access-Control-Allow-Origin"])
            #expect(unauthenticated.fast.status == 401)
            #expect(
                unauthenticated.fast.head.headerFields[Self.field("Access-Control-Allow-Origin")]
                    == "https://shop.example.com")
            #expect(
                unauthenticated.streaming.head.headerFields[Self.field("Access-Control-Allow-Credentials")] == "true")
            #expect(unauthenticated.fast.head.headerFields[.vary] == "Origin")
            #expect(unauthenticated.streaming.head.headerFields[.vary] == "Origin")

            var other = Self.key
            other[Self.field("Origin")] = "https://evil.example"
            let foreign = try await Self.both(harness, PolicyHarness.request(.get, "/shop/items", headers: other))
            #expect(foreign.fast.status == 200)
            #expect(
                foreign.fast.head.headerFields[Self.field("Access-Control-Allow-Origin")] == nil,
                "the upstream's * must not reach a foreign origin")
            #expect(foreign.fast.head.headerFields[.vary] == "Origin")

            let open = try await Self.both(
                harness, PolicyHarness.request(.get, "/open/x", headers: [Self.field("Origin"): "https://any.where"]))
            #expect(open.fast.head.headerFields[Self.field("Access-Control-Allow-Origin")] == "*")
            #expect(open.fast.head.headerFields[.vary] == nil)
        }
    }

    @Test(
        "IP rules: deny first, then the allow list, IPv4 and IPv6; X-Forwarded-For only from a trusted proxy; consumers' own lists"
    )
    func ipRules() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            let cases: [(peer: String, forwarded: String?, status: Int)] = [
                ("10.1.2.3", nil, 200), ("10.6.6.1", nil, 403), ("192.168.1.1", nil, 403), ("2001:db8::1", nil, 200),
                ("2001:db9::1", nil, 403), ("::ffff:10.1.2.3", nil, 200), ("::ffff:10.6.6.9", nil, 403),
                // An untrusted peer's X-Forwarded-For is ignored either way.
                ("192.168.1.1", "10.1.1.1", 403), ("10.1.2.3", "192.168.1.1", 200),
                // A trusted proxy's word is taken.
                ("10.9.0.1", "192.168.1.1", 403), ("10.9.0.1", "10.2.2.2", 200), ("10.9.0.1", "10.6.6.6", 403),
            ]
            for (peer, forwarded, status) in cases {
                var fields = HTTPFields()
                if let forwarded { fields[Self.field("X-Forwarded-For")] = forwarded }
                let (streaming, fast) = try await Self.both(
                    harness, PolicyHarness.request(.get, "/internal/a", headers: fields), peer: peer)
                #expect(fast.status == status, "\(peer) via \(forwarded ?? "-")")
                if status == 403 {
                    #expect(streaming.forwarded == nil && fast.forwarded == nil)
                    #expect(fast.body.contains("\"status\":403"))
                }
            }
            let office: HTTPFields = [Self.field("X-API-Key"): "office-key-0123456789abcdef"]
            #expect(
                try await Self.both(
                    harness, PolicyHarness.request(.get, "/office/a", headers: office), peer: "127.0.0.1"
                ).fast.status == 200)
            #expect(
                try await Self.both(
                    harness, PolicyHarness.request(.get, "/office/a", headers: office), peer: "10.1.1.1"
                ).fast.status == 403)
            // Consumers without lists call from anywhere.
            #expect(
                try await Self.both(
                    harness, PolicyHarness.request(.get, "/office/a", headers: Self.key), peer: "10.1.1.1"
                ).fast.status == 200)
        }
    }

    @Test("header, query and path transforms with values from the request, made safe for where they go")
    func transforms() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            var fields = Self.key
            fields[Self.field("X-Debug")] = "1"
            fields[Self.field("X-Old")] = "legacy"
            let head = PolicyHarness.request(.get, "/rw/v1/users/42?debug=1&q=shoes&page=2", headers: fields)
            let (streaming, fast) = try await Self.both(harness, head, agreeOn: ["X-Request", "X-Route", "Server"])
            for answer in [streaming, fast] {
                let forwarded = try #require(answer.forwarded)
                #expect(forwarded.headerFields[Self.field("X-Consumer")] == "app")
                #expect(forwarded.headerFields[Self.field("X-User")] == "42")
                #expect(forwarded.headerFields[Self.field("X-Groups")] == "partners,beta")
                #expect(forwarded.headerFields[Self.field("X-Debug")] == nil)
                #expect(forwarded.headerFields[Self.field("X-Old")] == nil)
                #expect(forwarded.headerFields[Self.field("X-New")] == "legacy")
                #expect(answer.head.headerFields[.server] == nil)
                #expect(answer.head.headerFields[Self.field("X-Powered-By")] == nil)
                #expect(answer.head.headerFields[Self.field("X-Request")] == "harness-request")
                #expect(answer.head.headerFields[Self.field("X-Route")] == "GET /rw/v1/users/{id}")
            }
            // The streaming path's terminal sees the path before the proxy strips the base path.
            #expect(streaming.forwarded?.path == "/rw/users/42?version=1&search=shoes&page=2&tag=app%20%26%20co")
            #expect(fast.forwarded?.path == "/users/42?version=1&search=shoes&page=2&tag=app%20%26%20co")

            // A value cannot end a header or add a query or fragment to the path. (The guard has
            // already refused encoded slashes and controls in the path, and removed dot segments.)
            let hostile = PolicyHarness.request(
                .get, "/rw/v1/users/a%3Fx%23y%20z?who=a%0D%0AX-Evil:%201", headers: Self.key)
            let rewritten = try await Self.both(harness, hostile)
            #expect(rewritten.fast.forwarded?.headerFields[Self.field("X-Who")] == "aX-Evil: 1")
            #expect(rewritten.fast.forwarded?.headerFields[Self.field("X-User")] == "a?x#y z")
            #expect(
                rewritten.fast.forwarded?.path
                    == "/users/a%3Fx%23y%20z?version=1&who=a%0D%0AX-Evil:%201&tag=app%20%26%20co")
        }
    }
}
