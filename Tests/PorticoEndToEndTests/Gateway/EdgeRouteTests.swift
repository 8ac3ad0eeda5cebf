import AsyncHTTPClient
import Foundation
import NIOCore
import PorticoConfig
import PorticoTesting
import Testing

/// Static answers, redirects and JSON body transforms through a whole gateway and a real upstream.
@Suite("Edge routes: respond, redirect, body transforms")
struct EdgeRouteTests {
    static func yaml(upstreamPort: Int) -> String {
        """
        \(upstreamYAML(port: upstreamPort))
        auth:
          key: {type: api-key}
        consumers:
          - {name: app, keys: [edge-key-0123456789abcdef]}
        apis:
          - name: shop
            base-path: /shop
            upstream: backend
            request-transform:
              body: {set: {/meta/consumer: "${consumer.name}", /meta/source: gateway, /meta/count: 3}, remove: [/internal], rename: {/old: /new}, max-size: 1KiB}
            response-transform:
              body: {remove: [/headers, /authority]}
            routes:
              - {path: "/old/{id}", redirect: {to: "/shop/items/${path.id}", status: 308}}
              - {path: /moved, redirect: {to: "https://elsewhere.example/new", status: 301, keep-query: false}}
              - {path: /maintenance, respond: {status: 503, body: "back soon", headers: {Retry-After: "120"}}}
              - {path: "/echo/{rest}", methods: [GET, POST], auth: key}
        """
    }

    @Test("respond answers by itself; redirect renders Location from the path and keeps the query")
    func respondAndRedirect() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let maintenance = try await client.send(.GET, "/shop/maintenance")
                    #expect(maintenance.status == 503)
                    #expect(maintenance.text == "back soon")
                    #expect(maintenance.headers["Retry-After"].first == "120")
                    #expect(maintenance.headers["Content-Type"].first == "text/plain; charset=utf-8")
                    #expect(maintenance.headers["X-Request-Id"].first?.isEmpty == false)

                    let redirect = try await client.send(.GET, "/shop/old/a%20b?page=2")
                    #expect(redirect.status == 308)
                    #expect(redirect.headers["Location"].first == "/shop/items/a%20b?page=2")
                    let moved = try await client.send(.GET, "/shop/moved?x=1")
                    #expect(moved.status == 301)
                    #expect(moved.headers["Location"].first == "https://elsewhere.example/new")
                }
            }
        }
    }

    @Test("JSON bodies are edited by pointer both ways; bad JSON gets 400, a large body 413, other types pass")
    func bodies() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let key = ("X-API-Key", "edge-key-0123456789abcdef")
                    let sent = #"{"name":"lamp","price":1.50,"internal":{"cost":1},"old":"x","meta":{"trace":"t"}}"#
                    let answer = try await client.send(
                        .POST, "/shop/echo/items", headers: [key, ("Content-Type", "application/json")],
                        body: .bytes(ByteBuffer(string: sent)))
                    #expect(answer.status == 200)
                    let echo = try answer.json()
                    #expect(echo["headers"] == nil, "the response transform removes /headers")
                    #expect(echo["authority"] == nil)
                    #expect(echo["method"] as? String == "POST")
                    let forwarded = try #require(echo["body"] as? String)
                    #expect(
                        forwarded
                            == #"{"name":"lamp","price":1.50,"meta":{"trace":"t","consumer":"app","source":"gateway","count":3},"new":"x"}"#
                    )

                    let broken = try await client.send(
                        .POST, "/shop/echo/items", headers: [key, ("Content-Type", "application/json")],
                        body: .bytes(ByteBuffer(string: "{\"a\":")))
                    #expect(broken.status == 400)
                    #expect(broken.text.contains("not valid JSON"))
                    let large = try await client.send(
                        .POST, "/shop/echo/items", headers: [key, ("Content-Type", "application/json")],
                        body: .bytes(ByteBuffer(string: "[" + String(repeating: "1,", count: 1000) + "1]")))
                    #expect(large.status == 413)
                    let text = try await client.send(
                        .POST, "/shop/echo/items", headers: [key, ("Content-Type", "text/plain")],
                        body: .bytes(ByteBuffer(string: "{\"internal\":1}")))
                    #expect(try text.json()["body"] as? String == "{\"internal\":1}")
                }
            }
        }
    }
}

/// The edge keys' problems are named with file, line and column.
@Suite("Edge policy config")
struct EdgeConfigTests {
    func problems(_ api: String) throws -> [String] {
        let yaml = """
            upstreams:
              svc: {targets: [{url: "http://127.0.0.1:9000"}]}
            apis:
              - name: a
                base-path: /a
                upstream: svc
            \(api)
            """
        return try configDiagnostics(yaml).map { "\($0.line):\($0.column): \($0.message)" }
    }

    @Test("each bad edge setting gets its own message at its own place")
    func messages() throws {
        let cases: [(String, String)] = [
            (
                "    cors: {origins: [\"*\"], credentials: true}",
                "7:21: API 'a' cors: credentials: true with origin \"*\""
            ),
            ("    cors: {origins: [\"shop.example.com\"]}", "is not an origin"),
            ("    cors: {origins: [\"https://a.*.example.com\"]}", "a wildcard must be the first label only"),
            ("    cors: {origins: [\"~([a-z\"]}", "is not a valid regular expression"),
            ("    ip: {allow: [10.0.0.0/33]}", "7:17: API 'a' ip allow: '10.0.0.0/33' is not an address or CIDR block"),
            (
                "    request-transform: {headers: {set: {X-A: \"${consumer.nam}\"}}}",
                "unknown placeholder ${consumer.nam}"
            ),
            ("    request-transform: {headers: {set: {Content-Length: \"1\"}}}", "'Content-Length' frames the message"),
            ("    request-transform: {body: {remove: [meta]}}", "'meta' is not a JSON pointer"),
            ("    response-transform: {path: /x}", "unknown key 'path'"),
            ("    compress: {types: [json], level: 12}", "'json' is not a media type"),
            ("    routes:\n      - {path: /x, redirect: {to: \"//evil.example/\"}}", "starts with '//'"),
            (
                "    routes:\n      - {path: /x, redirect: {to: /y, status: 200}}",
                "status must be 301, 302, 303, 307 or 308"
            ),
            ("    routes:\n      - {path: /x, respond: {status: 503}, redirect: {to: /y}}", "has respond and redirect"),
        ]
        for (api, expected) in cases {
            let found = try problems(api)
            #expect(found.contains { $0.contains(expected) }, "\(api): \(found)")
        }
        #expect(try problems("    compress: {types: [json], level: 12}").count == 2)
        #expect(
            try problems(
                "    cors: {origins: [\"https://*.example.com\", \"~^https://[a-z]+\\\\.example\\\\.org$\"], max-age: 10m}"
            ) == [])
    }

    @Test("request placeholders are left alone by environment interpolation")
    func placeholdersAreNotVariables() throws {
        #expect(
            try problems(
                "    request-transform: {headers: {set: {X-Tenant: \"${claims.tenant}\", X-Env: \"${HOME}\"}}}") == [])
    }
}

/// CORS, IP rules and header, query and path transforms over real sockets, on the event-loop path.
@Suite("Edge policies end to end")
struct EdgeEndToEndTests {
    static func yaml(upstreamPort: Int) -> String {
        """
        \(upstreamYAML(port: upstreamPort))
        apis:
          - name: local
            base-path: /local
            upstream: backend
            ip: {allow: [127.0.0.0/8]}
            cors: {origins: ["https://app.example.com"], methods: [GET, PUT], headers: [Content-Type], max-age: 1m}
            request-transform:
              headers: {set: {X-From: "${client.ip}", X-Item: "${path.id}"}, remove: [X-Debug]}
              query: {add: {via: gateway}}
              path: "/echo/items/{id}"
            response-transform:
              headers: {set: {X-Route: "${route.name}"}}
            routes:
              - {path: "/v1/items/{id}", methods: [GET, PUT]}
          - name: elsewhere
            base-path: /elsewhere
            upstream: backend
            ip: {deny: [127.0.0.0/8, "::1"]}
        """
    }

    @Test(
        "a local client passes the allow list and is denied by the deny list; transforms reach the upstream; a preflight never does"
    )
    func endToEnd() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let answer = try await client.send(
                        .GET, "/local/v1/items/42?page=2",
                        headers: [("X-Debug", "1"), ("Origin", "https://app.example.com")])
                    #expect(answer.status == 200)
                    let echo = try answer.json()
                    #expect(echo["uri"] as? String == "/echo/items/42?page=2&via=gateway")
                    let headers = try echoedHeaders(answer)
                    #expect(headers["x-from"] == ["127.0.0.1"])
                    #expect(headers["x-item"] == ["42"])
                    #expect(headers["x-debug"] == nil)
                    #expect(answer.headers["X-Route"].first == "GET,PUT /local/v1/items/{id}")
                    #expect(answer.headers["Access-Control-Allow-Origin"].first == "https://app.example.com")
                    #expect(answer.headers["Vary"].contains { $0.contains("Origin") })

                    let preflight = try await client.send(
                        .OPTIONS, "/local/v1/items/42",
                        headers: [
                            ("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "PUT"),
                            ("Access-Control-Request-Headers", "content-type"),
                        ])
                    #expect(preflight.status == 204)
                    #expect(preflight.headers["Access-Control-Allow-Methods"].first == "GET, PUT")
                    #expect(preflight.headers["Access-Control-Max-Age"].first == "60")

                    let denied = try await client.send(.GET, "/elsewhere/echo/a")
                    #expect(denied.status == 403)
                    #expect(denied.headers["Content-Type"].first == "application/problem+json")
                    #expect(denied.text.contains("not allowed"))
                }
            }
        }
    }
}
