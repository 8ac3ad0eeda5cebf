import HTTPTypes
import PorticoTesting
import Testing

/// Policies and chains through `PolicyHarness`: no server, the upstream played by a closure, and
/// the streaming path's chain held to the event-loop path's answer for the same requests.
@Suite("Policy chains without servers")
struct PolicyHarnessTests {
    static let yaml = """
        server: {access-log: false, watch-config: false}
        auth:
          key: {type: api-key}
        consumers:
          - {name: app, groups: [partners], keys: [harness-key-0123456789abcdef]}
        upstreams:
          backend: {targets: [{url: "http://127.0.0.1:9"}]}
        apis:
          - name: keyed
            base-path: /keyed
            upstream: backend
            auth: key
            rate-limit: {rate: 2/m, burst: 2, by: consumer}
            request-headers: {remove: [X-Debug], set: {X-Env: test}}
            response-headers: {remove: [Server], add: {X-Served-By: portico}}
        """

    static let key: HTTPFields = [
        HTTPField.Name("X-API-Key")!: "harness-key-0123456789abcdef", HTTPField.Name("X-Debug")!: "1",
    ]

    static func upstream(_ head: HTTPRequest) -> PolicyHarness.Reply {
        PolicyHarness.Reply(.ok, headers: [.server: "upstream/1", .contentType: "text/plain"], body: "hello")
    }

    @Test(
        "the streaming chain: 401 without a key; then identity, header edits, RateLimit fields, and 429 past the limit")
    func streamingChain() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in try await Self.streaming(harness) }
    }

    static func streaming(_ harness: PolicyHarness) async throws {
        let missing = try await harness.send(PolicyHarness.request(.get, "/keyed/a"), upstream: Self.upstream)
        #expect(missing.status == 401)
        #expect(missing.forwarded == nil)
        #expect(missing.head.headerFields[.contentType] == "application/problem+json")
        #expect(missing.body.contains("\"status\":401"))

        for remaining in [1, 0] {
            let answer = try await harness.send(
                PolicyHarness.request(.get, "/keyed/a", headers: Self.key), upstream: Self.upstream)
            #expect(answer.status == 200)
            #expect(answer.body == "hello")
            let forwarded = try #require(answer.forwarded)
            #expect(forwarded.headerFields[HTTPField.Name("X-Consumer-Name")!] == "app")
            #expect(forwarded.headerFields[HTTPField.Name("X-API-Key")!] == nil)
            #expect(forwarded.headerFields[HTTPField.Name("X-Debug")!] == nil)
            #expect(forwarded.headerFields[HTTPField.Name("X-Env")!] == "test")
            #expect(answer.head.headerFields[.server] == nil)
            #expect(answer.head.headerFields[HTTPField.Name("X-Served-By")!] == "portico")
            #expect(answer.head.headerFields[HTTPField.Name("RateLimit")!]?.contains(";r=\(remaining);") == true)
            #expect(answer.exchange?.identity?.consumer == "app")
        }
        let refused = try await harness.send(
            PolicyHarness.request(.get, "/keyed/a", headers: Self.key), upstream: Self.upstream)
        #expect(refused.status == 429)
        #expect(refused.forwarded == nil)
        #expect(refused.head.headerFields[.retryAfter] != nil)
    }

    @Test(
        "an upstream answer with both framings reaches the client without its Content-Length (ProxyStage.clientHead, which both paths use)"
    )
    func bothFramingsFromUpstream() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { harness in
            let request = PolicyHarness.request(.get, "/keyed/a", headers: Self.key)
            let reply: @Sendable (HTTPRequest) -> PolicyHarness.Reply = { _ in
                PolicyHarness.Reply(.ok, headers: [.transferEncoding: "chunked", .contentLength: "2"], body: "")
            }
            let quick = try #require(harness.sendFast(request, upstream: reply))
            #expect(quick.status == 200)
            #expect(quick.head.headerFields[.contentLength] == nil)
            #expect(quick.head.headerFields[.transferEncoding] == nil)
        }
    }

    @Test("the event-loop path's policies give the streaming chain's answers, request by request")
    func bothPathsAgree() async throws {
        try await PolicyHarness.with(yaml: Self.yaml) { streaming in
            try await PolicyHarness.with(yaml: Self.yaml) { fast in try await Self.compare(streaming, fast) }
        }
        // A route with a policy that has no fast path (a cache) is not started on the event loop.
        let cachedYAML = "cache: {memory: 1MiB}\n" + Self.yaml + "\n    cache: {default-ttl: 30s}\n"
        try await PolicyHarness.with(yaml: cachedYAML) { cached in
            #expect(cached.sendFast(PolicyHarness.request(.get, "/keyed/a", headers: Self.key)) == nil)
            let answer = try await cached.send(
                PolicyHarness.request(.get, "/keyed/a", headers: Self.key), upstream: Self.upstream)
            #expect(answer.status == 200)
        }
    }

    static func compare(_ streaming: PolicyHarness, _ fast: PolicyHarness) async throws {
        let requests = [
            PolicyHarness.request(.get, "/keyed/a"),
            PolicyHarness.request(
                .get, "/keyed/a", headers: [HTTPField.Name("X-API-Key")!: "not-a-key-0123456789abcdef"]),
            PolicyHarness.request(.get, "/keyed/a", headers: Self.key),
            PolicyHarness.request(.post, "/keyed/b?x=1", headers: Self.key),
            PolicyHarness.request(.get, "/keyed/c", headers: Self.key),
        ]
        for request in requests {
            let slow = try await streaming.send(request, upstream: Self.upstream)
            let quick = try #require(fast.sendFast(request, upstream: Self.upstream))
            #expect(quick.status == slow.status, "\(request)")
            #expect(
                quick.forwarded?.headerFields[HTTPField.Name("X-Consumer-Name")!]
                    == slow.forwarded?.headerFields[HTTPField.Name("X-Consumer-Name")!])
            #expect((quick.forwarded == nil) == (slow.forwarded == nil))
            for name in [
                "RateLimit", "RateLimit-Policy", "Retry-After", "WWW-Authenticate", "X-Served-By", "Content-Type",
            ] {
                let field = HTTPField.Name(name)!
                #expect(quick.head.headerFields[field] == slow.head.headerFields[field], "\(name) for \(request)")
            }
        }
    }
}
