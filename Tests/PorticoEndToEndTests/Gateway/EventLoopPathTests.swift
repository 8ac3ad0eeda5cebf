import Foundation
import NIOCore
import PorticoTesting
import Testing

@Suite("The event-loop path and the streaming path")
struct EventLoopPathTests {
    static func yaml(upstreamPort: Int) -> String {
        """
        server: {access-log: false, watch-config: false}
        cache: {memory: 1MiB}
        \(upstreamYAML(port: upstreamPort))
        apis:
          - {name: plain, base-path: /api, upstream: backend}
          - {name: cached, base-path: /cached, upstream: backend, cache: {default-ttl: 30s}}
        """
    }

    @Test(
        "plain proxied requests and HEAD stay on the event loop; a cached route and a large body take the streaming path"
    )
    func whichPath() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                let paths = gateway.app.runtime.paths
                func counts() -> (Int, Int) {
                    (paths.eventLoop.load(ordering: .relaxed), paths.streaming.load(ordering: .relaxed))
                }
                try await withClient(baseURL: gateway.baseURL) { client in
                    let before = counts()
                    #expect(try await client.send(.GET, "/api/echo/a").status == 200)
                    let small = try await client.send(
                        .POST, "/api/echo/b", body: .bytes(ByteBuffer(string: "twelve bytes")))
                    #expect(try small.json()["body"] as? String == "twelve bytes")
                    #expect(try await client.send(.HEAD, "/api/download/100").status == 200)
                    let afterFast = counts()
                    #expect(afterFast.0 - before.0 == 3)
                    #expect(afterFast.1 == before.1)

                    #expect(try await client.send(.GET, "/cached/echo/c").status == 200)
                    let large = String(repeating: "x", count: 100_000)
                    let big = try await client.send(.POST, "/api/echo/d", body: .bytes(ByteBuffer(string: large)))
                    #expect(try big.json()["body"] as? String == large)
                    let afterSlow = counts()
                    #expect(afterSlow.0 == afterFast.0)
                    #expect(afterSlow.1 - afterFast.1 == 2)
                }
            }
        }
    }

    @Test(
        "HEAD on the event loop: the target's length and no body, and the next request on the connection framed right")
    func headOnTheLoop() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                let raw = try await RawClient.connect(port: gateway.port)
                #expect(
                    await raw.send(
                        "HEAD /api/download/100000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            + "GET /api/echo/next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
                let text = await raw.readAll()
                let heads = text.components(separatedBy: "HTTP/1.1 200 OK\r\n")
                #expect(heads.count == 3, "\(text.prefix(600))")
                let head = heads.count > 1 ? heads[1].lowercased() : ""
                // The HEAD's answer says the GET's length and ends at its blank line: the next
                // status line follows at once, and nothing of a body comes before it.
                #expect(head.contains("content-length: 100000\r\n"), "\(head)")
                #expect(head.hasSuffix("\r\n\r\n"), "\(head)")
                #expect(!text.contains("xxxx"))
                #expect(text.contains("\"\\/echo\\/next\""), "\(text.suffix(300))")
                #expect(gateway.app.runtime.paths.streaming.load(ordering: .relaxed) == 0)
                #expect(gateway.app.runtime.paths.eventLoop.load(ordering: .relaxed) == 2)
            }
        }
    }

    @Test(
        "a cached route: the miss fills the cache on the streaming path, fresh hits are answered on the event loop, after the limits"
    )
    func cacheHitsOnTheLoop() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                server: {access-log: false, watch-config: false}
                cache: {memory: 1MiB}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - {name: cached, base-path: /cached, upstream: backend, cache: {default-ttl: 30s}, rate-limit: {rate: 5/h, burst: 5, by: ip}}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                let paths = gateway.app.runtime.paths
                func counts() -> [Int] {
                    [paths.eventLoop.load(ordering: .relaxed), paths.streaming.load(ordering: .relaxed)]
                }
                try await withClient(baseURL: gateway.baseURL) { client in
                    let miss = try await client.send(.GET, "/cached/echo/c")
                    #expect(miss.status == 200)
                    #expect(
                        miss.headers.first(name: "cache-status")?.contains("fwd=uri-miss") == true, "\(miss.headers)")
                    #expect(counts() == [0, 1])
                    for round in 1...3 {
                        let hit = try await client.send(.GET, "/cached/echo/c")
                        #expect(hit.status == 200)
                        #expect(hit.headers.first(name: "cache-status")?.contains("hit") == true, "\(hit.headers)")
                        #expect(hit.headers.first(name: "age") != nil)
                        #expect(hit.headers.first(name: "ratelimit") != nil, "the limit's response phase runs on hits")
                        #expect(hit.text == miss.text)
                        #expect(counts() == [round, 1])
                    }
                    // A range is not cut here: the streaming path serves it (the limit's fifth unit).
                    let ranged = try await client.send(.GET, "/cached/echo/c", headers: [("Range", "bytes=0-3")])
                    #expect(ranged.status == 206)
                    #expect(counts() == [3, 2])
                    // The limit runs before the cache: the sixth request is refused, hit or not.
                    let refused = try await client.send(.GET, "/cached/echo/c")
                    #expect(refused.status == 429)
                    #expect(counts() == [4, 2])
                }
            }
        }
    }

    @Test("with a portal configured, the APIs stay on the event loop and the portal's paths do not")
    func portalBeside() async throws {
        try await withUpstream { upstreamPort in
            let yaml = Self.yaml(upstreamPort: upstreamPort) + "\nportal: {path: /portal}\n"
            try await GatewayHarness.with(yaml: yaml) { gateway in
                let paths = gateway.app.runtime.paths
                try await withClient(baseURL: gateway.baseURL) { client in
                    let api = try await client.send(.GET, "/api/echo/a")
                    #expect(api.status == 200)
                    #expect(paths.eventLoop.load(ordering: .relaxed) == 1)
                    _ = try await client.send(.GET, "/portal/api/catalog")
                    #expect(paths.streaming.load(ordering: .relaxed) == 1)
                    #expect(paths.eventLoop.load(ordering: .relaxed) == 1)
                }
            }
        }
    }

    @Test("pipelined requests that alternate between the paths are answered in the order they came")
    func pipelinedOrder() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                let raw = try await RawClient.connect(port: gateway.port)
                let order = [
                    "/api/echo/1", "/cached/echo/2", "/cached/echo/3", "/api/echo/4", "/api/echo/5", "/cached/echo/6",
                ]
                var text = ""
                for (index, path) in order.enumerated() {
                    let close = index == order.count - 1 ? "Connection: close\r\n" : ""
                    text += "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(close)\r\n"
                }
                #expect(await raw.send(text))
                let answers = await raw.readAll()
                var positions: [Int] = []
                for index in 1...order.count {
                    let position = try #require(answers.range(of: "\"\\/echo\\/\(index)\"")).lowerBound
                    positions.append(answers.distance(from: answers.startIndex, to: position))
                }
                #expect(positions == positions.sorted())
                #expect(answers.components(separatedBy: "HTTP/1.1 200").count - 1 == order.count)
            }
        }
    }

    @Test("a client that goes away mid-response costs the upstream connection, not the gateway")
    func clientGoesAway() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                for _ in 0..<20 {
                    let raw = try await RawClient.connect(port: gateway.port)
                    #expect(await raw.send("GET /api/download/5000000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                    raw.shutdownWrite()
                }
                try await withClient(baseURL: gateway.baseURL) { client in
                    let after = try await client.send(.GET, "/api/echo/after")
                    #expect(after.status == 200)
                }
            }
        }
    }

    @Test("a client that goes away while the upstream is still answering leaves the target's in-flight count at zero")
    func inFlightAfterClientLeaves() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                let target = try #require(gateway.app.runtime.snapshot.pools["backend"]?.targets.first)
                for _ in 0..<3 {
                    let raw = try await RawClient.connect(port: gateway.port)
                    #expect(await raw.send("GET /api/slow/3000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                    // Until the request reaches the target; a loaded CI machine can take longer than
                    // any fixed sleep (200 ms once was not enough), and the upstream holds it 3 s.
                    var busy = 0
                    for _ in 0..<125 {
                        busy = target.inFlight.load(ordering: .relaxed)
                        if busy >= 1 { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(busy >= 1)
                    raw.reset()
                }
                // Well before the upstream's 3 s answers would end the tries.
                var count = -1
                for _ in 0..<100 {
                    count = target.inFlight.load(ordering: .relaxed)
                    if count == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(count == 0)
            }
        }
    }

    @Test(
        "an API key and an in-memory limit decide on the event loop: identity forwarded, RateLimit headers, 401 and 429 as problem+json"
    )
    func keyedAndLimited() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                server: {access-log: false, watch-config: false}
                auth:
                  key: {type: api-key}
                consumers:
                  - {name: app, groups: [partners], keys: [event-loop-key-0123456789abcdef]}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - name: keyed
                    base-path: /keyed
                    upstream: backend
                    auth: key
                    rate-limit: {rate: 3/m, burst: 3, by: consumer}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                let paths = gateway.app.runtime.paths
                try await withClient(baseURL: gateway.baseURL) { client in
                    let before = paths.eventLoop.load(ordering: .relaxed)
                    let missing = try await client.send(.GET, "/keyed/echo/x")
                    #expect(missing.status == 401)
                    #expect(missing.headers.first(name: "Content-Type") == "application/problem+json")
                    #expect(missing.headers.first(name: "WWW-Authenticate")?.hasPrefix("APIKey") == true)
                    let key = ("X-API-Key", "event-loop-key-0123456789abcdef")
                    for remaining in [2, 1, 0] {
                        let answer = try await client.send(.GET, "/keyed/echo/x", headers: [key])
                        #expect(answer.status == 200)
                        #expect(answer.headers.first(name: "RateLimit")?.contains(";r=\(remaining);") == true)
                        let echoed = (try answer.json()["headers"] as? [[String]]) ?? []
                        #expect(echoed.contains { $0[0].lowercased() == "x-consumer-name" && $0[1] == "app" })
                        #expect(!echoed.contains { $0[0].lowercased() == "x-api-key" })
                    }
                    let refused = try await client.send(.GET, "/keyed/echo/x", headers: [key])
                    #expect(refused.status == 429)
                    #expect(refused.headers.first(name: "Retry-After") != nil)
                    #expect(try refused.json()["status"] as? Int == 429)
                    #expect(paths.eventLoop.load(ordering: .relaxed) - before == 5)
                }
            }
        }
    }

    @Test(
        "one connection: a body of unknown length chunked to the client, a HEAD answer without its body, a plain answer"
    )
    func framing() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                let raw = try await RawClient.connect(port: gateway.port)
                #expect(
                    await raw.send(
                        "GET /api/stream/3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            + "HEAD /api/stream/3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            + "GET /api/echo/last HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
                let answers = await raw.readAll()
                let responses = Array(answers.components(separatedBy: "HTTP/1.1 ").dropFirst())
                try #require(responses.count == 3)
                let streamed = responses[0]
                #expect(streamed.hasPrefix("200"))
                #expect(streamed.lowercased().contains("transfer-encoding: chunked\r\n"))
                let body = try #require(streamed.range(of: "\r\n\r\n")).upperBound
                #expect(Self.dechunked(String(streamed[body...])) == "part-0\npart-1\npart-2\n")
                // Whatever the upstream answers to HEAD, no body follows the head.
                #expect(responses[1].hasSuffix("\r\n\r\n"))
                #expect(responses[1].components(separatedBy: "\r\n\r\n").count == 2)
                #expect(responses[2].hasPrefix("200"))
                #expect(responses[2].contains("\"\\/echo\\/last\""))
                // All three on the event loop, HEAD too.
                #expect(gateway.app.runtime.paths.eventLoop.load(ordering: .relaxed) == 3)
                #expect(gateway.app.runtime.paths.streaming.load(ordering: .relaxed) == 0)
            }
        }
    }

    /// A chunked body's data, or nil if its framing is broken (it must end with the last chunk).
    static func dechunked(_ text: String) -> String? {
        var rest = Substring(text)
        var data = ""
        while let line = rest.range(of: "\r\n") {
            guard let size = Int(rest[..<line.lowerBound], radix: 16) else { return nil }
            rest = rest[line.upperBound...]
            if size == 0 { return rest == "\r\n" ? data : nil }
            guard rest.utf8.count >= size + 2 else { return nil }
            let end = rest.utf8.index(rest.startIndex, offsetBy: size)
            data += rest[..<end]
            guard rest[end...].hasPrefix("\r\n") else { return nil }
            rest = rest[rest.utf8.index(end, offsetBy: 2)...]
        }
        return nil
    }
}
