import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PorticoConfig
import PorticoTesting
import Synchronization
import Testing

@testable import PorticoGateway

/// A wall clock the test moves by hand; the gateway's cache and the origin's `Date` both read it.
final class TestClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func now() -> Date { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// An origin whose answers the test scripts per path. It counts requests, keeps their headers,
/// stamps `Date` from the test clock, numbers its bodies, and answers `If-None-Match` with 304.
final class ScriptedOrigin: Sendable {
    struct Reply: Sendable {
        var status = 200
        var headers: [(String, String)] = []
        var body = "body"
        var delay: Duration?
        /// Answer a matching `If-None-Match` with 304.
        var conditional = true
    }

    private let state = Mutex<(replies: [String: Reply], requests: [String: [HTTPFields]])>(([:], [:]))
    let clock: TestClock

    init(clock: TestClock) { self.clock = clock }

    func set(_ path: String, _ reply: Reply) { state.withLock { $0.replies[path] = reply } }
    func set(_ path: String, status: Int = 200, _ headers: [(String, String)], body: String = "body") {
        set(path, Reply(status: status, headers: headers, body: body))
    }
    func count(_ path: String) -> Int { state.withLock { $0.requests[path]?.count ?? 0 } }
    func lastHeaders(_ path: String) -> HTTPFields? { state.withLock { $0.requests[path]?.last } }

    /// Runs the origin on a free port for the length of `body`. It is a bare HummingbirdCore
    /// server: Hummingbird's `Application` would overwrite `Date` with the real time.
    func serve<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let port = BoundPort()
        var logger = Logger(label: "test.origin")
        logger.logLevel = .warning
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: ServerConfiguration(address: .hostname("127.0.0.1", port: 0)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, _ in
                let response = try await self.respond(to: request)
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) }
        )
        return try await ServiceRunner.with([server], logger: logger) { try await body(try await port.wait()) }
    }

    private func respond(to request: Request) async throws -> Response {
        let path = request.uri.path
        _ = try await request.body.collect(upTo: 1 << 20)
        let (reply, number) = state.withLock { state -> (Reply, Int) in
            state.requests[path, default: []].append(request.headers)
            return (state.replies[path] ?? Reply(status: 404, body: "none"), state.requests[path]!.count)
        }
        if let delay = reply.delay { try await Task.sleep(for: delay) }
        var headers = HTTPFields()
        headers[.date] = HTTPDate.format(clock.now())
        for (name, value) in reply.headers { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        headers[HTTPField.Name("X-Served")!] = String(number)
        let etag = reply.headers.first { $0.0.lowercased() == "etag" }?.1
        if reply.conditional, let etag, request.headers[.ifNoneMatch] == etag {
            return Response(status: .notModified, headers: headers)
        }
        let body = ByteBuffer(string: reply.body)
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: body))
    }
}

@Suite("Response cache (RFC 9111)")
struct CacheTests {
    // MARK: Unit: directives, dates and age arithmetic

    @Test("Cache-Control directives are parsed case-insensitively, with quoted values, the first occurrence winning")
    func directives() {
        var fields = HTTPFields()
        fields.append(
            HTTPField(name: .cacheControl, value: "Public, MAX-AGE=60, s-maxage=\"120\", private=\"Set-Foo, X-Secret\"")
        )
        fields.append(
            HTTPField(
                name: .cacheControl, value: "max-age=5, stale-while-revalidate=30, stale-if-error=600, must-revalidate")
        )
        let control = CacheControl(fields)
        #expect(control.isPublic && control.maxAge == 60 && control.sMaxAge == 120)
        #expect(control.isPrivate && control.privateFields == ["set-foo", "x-secret"])
        #expect(control.staleWhileRevalidate == 30 && control.staleIfError == 600 && control.mustRevalidate)
        #expect(CacheControl(HTTPFields([HTTPField(name: .cacheControl, value: "max-age=soon")])).maxAge == 0)

        var request = HTTPFields()
        request.append(
            HTTPField(name: .cacheControl, value: "max-stale, min-fresh=10, only-if-cached, no-cache, no-store"))
        let asked = CacheControl(request, isRequest: true)
        #expect(asked.maxStale == .any && asked.minFresh == 10 && asked.onlyIfCached && asked.noCache && asked.noStore)
        #expect(
            CacheControl(HTTPFields([HTTPField(name: .cacheControl, value: "max-stale=30")])).maxStale == .seconds(30))
        #expect(
            CacheControl(HTTPFields([HTTPField(name: HTTPField.Name("Pragma")!, value: "no-cache")]), isRequest: true)
                .noCache)
    }

    @Test("HTTP dates in all three forms; IMF-fixdate round-trips")
    func dates() {
        let expected = Date(timeIntervalSince1970: 784_111_777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == expected)
        #expect(HTTPDate.format(expected) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("0") == nil)
        #expect(HTTPDate.parse("Sun, 32 Nov 1994 08:49:37 GMT") == nil)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(HTTPDate.parse(HTTPDate.format(now)) == now)
    }

    func entry(
        _ headers: [(String, String)], requestTime: Date, responseTime: Date, defaultTTL: Double = 0
    ) -> CachedResponse {
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return CachedResponse(
            status: .ok, headers: fields, body: ByteBuffer(string: "x"), requestHeaders: [:], requestTime: requestTime,
            responseTime: responseTime, varyNames: [], defaultTTL: defaultTTL, tags: [])
    }

    @Test("Age follows RFC 9111 section 4.2.3: apparent age, corrected Age value, response delay and resident time")
    func ageArithmetic() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        // Sent at t0, answered at t0+2; the origin's Date says t0-10 (its clock is behind) and Age 5.
        let behind = entry([("Date", HTTPDate.format(t0 - 10)), ("Age", "5")], requestTime: t0, responseTime: t0 + 2)
        // apparent_age = 12, corrected_age_value = 5 + 2 = 7: the larger wins.
        #expect(behind.correctedInitialAge == 12)
        #expect(behind.currentAge(at: t0 + 2) == 12)
        #expect(behind.currentAge(at: t0 + 32) == 42)
        // A Date ahead of the cache's clock gives no negative apparent age; Age plus the delay wins.
        let ahead = entry([("Date", HTTPDate.format(t0 + 100)), ("Age", "30")], requestTime: t0, responseTime: t0 + 1)
        #expect(ahead.correctedInitialAge == 31)
        #expect(ahead.currentAge(at: t0 + 11) == 41)
        // No Date: the cache adds its own.
        let undated = entry([], requestTime: t0, responseTime: t0)
        #expect(undated.headers[.date] == HTTPDate.format(t0))
    }

    @Test("Freshness lifetime: s-maxage, then max-age, then Expires − Date, then the default TTL, then the heuristic")
    func lifetimes() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let date = ("Date", HTTPDate.format(t0))
        #expect(
            entry([date, ("Cache-Control", "max-age=60, s-maxage=120")], requestTime: t0, responseTime: t0)
                .freshnessLifetime == 120)
        #expect(
            entry(
                [date, ("Cache-Control", "max-age=60"), ("Expires", HTTPDate.format(t0 + 600))], requestTime: t0,
                responseTime: t0
            ).freshnessLifetime == 60)
        #expect(
            entry([date, ("Expires", HTTPDate.format(t0 + 600))], requestTime: t0, responseTime: t0).freshnessLifetime
                == 600)
        #expect(entry([date, ("Expires", "0")], requestTime: t0, responseTime: t0).freshnessLifetime == 0)
        #expect(entry([date], requestTime: t0, responseTime: t0, defaultTTL: 30).freshnessLifetime == 30)
        // Heuristic: 10% of the time since Last-Modified, at most a day.
        #expect(
            entry([date, ("Last-Modified", HTTPDate.format(t0 - 1000))], requestTime: t0, responseTime: t0)
                .freshnessLifetime == 100)
        #expect(
            entry([date, ("Last-Modified", HTTPDate.format(t0 - 100 * 86_400))], requestTime: t0, responseTime: t0)
                .freshnessLifetime == 86_400)
        #expect(entry([date], requestTime: t0, responseTime: t0).freshnessLifetime == 0)
    }

    // MARK: End to end

    static let yaml = """
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        cache: {memory: 1MiB}
        auth:
          keys: {type: api-key}
        consumers:
          - {name: alpha, keys: [alpha-key-0123456789abcdef]}
          - {name: beta, keys: [beta-key-0123456789abcdef0]}
        apis:
          - {name: c, base-path: /c, upstream: origin, strip-base-path: false, cache: true}
          - {name: ttl, base-path: /ttl, upstream: origin, strip-base-path: false, cache: {default-ttl: 30s}}
          - {name: vary, base-path: /v, upstream: origin, strip-base-path: false, cache: {vary-on: [Accept-Language]}}
          - name: tagged
            base-path: /t
            upstream: origin
            strip-base-path: false
            cache: {tag-header: Surrogate-Key, max-object-size: 1KiB, statuses: [200, 404]}
          - {name: shared, base-path: /shared, upstream: origin, strip-base-path: false, auth: [keys], cache: true}
          - {name: mine, base-path: /mine, upstream: origin, strip-base-path: false, auth: [keys], cache: {key: [consumer]}}
        """

    struct Setup: Sendable {
        let client: TestClient
        let admin: AdminClient
        let origin: ScriptedOrigin
        let clock: TestClock
        let gateway: GatewayHarness.Running

        func get(_ path: String, _ headers: [(String, String)] = []) async throws -> TestClient.Answer {
            try await client.send(.GET, path, headers: headers)
        }
    }

    static func run(memory: String? = nil, _ body: @Sendable (Setup) async throws -> Void) async throws {
        let clock = TestClock()
        let origin = ScriptedOrigin(clock: clock)
        try await origin.serve { port in
            var text = yaml + "\n" + upstreamYAML(name: "origin", port: port)
            if let memory {
                text = text.replacingOccurrences(of: "cache: {memory: 1MiB}", with: "cache: {memory: \(memory)}")
            }
            try await GatewayHarness.with(yaml: text, wallClock: { clock.now() }) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    try await body(
                        Setup(
                            client: client, admin: adminClient(client, port: gateway.adminPort!), origin: origin,
                            clock: clock, gateway: gateway))
                }
            }
        }
    }

    @Test(
        "max-age: a miss is stored, hits carry Age and Cache-Status, a stale entry is revalidated with a 304 that updates its headers"
    )
    func maxAgeAndRevalidation() async throws {
        try await Self.run { s in
            s.origin.set("/c/a", [("Cache-Control", "max-age=60"), ("ETag", "\"v1\""), ("X-Note", "first")])
            let miss = try await s.get("/c/a")
            #expect(miss.status == 200 && miss.text == "body")
            #expect(miss.headers["Cache-Status"].first == "Portico; fwd=uri-miss; fwd-status=200; stored")
            s.clock.advance(10)
            let hit = try await s.get("/c/a")
            #expect(hit.status == 200 && hit.text == "body")
            #expect(hit.headers["Age"].first == "10")
            #expect(hit.headers["Cache-Status"].first == "Portico; hit; ttl=50")
            #expect(hit.headers["X-Request-Id"].first != miss.headers["X-Request-Id"].first)
            let head = try await s.client.send(.HEAD, "/c/a")
            #expect(head.status == 200 && head.body.readableBytes == 0 && head.headers["Content-Length"].first == "4")
            #expect(head.headers["Cache-Status"].first == "Portico; hit; ttl=50")
            #expect(s.origin.count("/c/a") == 1)

            // Stale: the origin is asked with the validator and answers 304 with a changed header.
            s.origin.set("/c/a", [("Cache-Control", "max-age=60"), ("ETag", "\"v1\""), ("X-Note", "second")])
            s.clock.advance(60)
            let revalidated = try await s.get("/c/a")
            #expect(s.origin.count("/c/a") == 2)
            #expect(s.origin.lastHeaders("/c/a")?[.ifNoneMatch] == "\"v1\"")
            #expect(revalidated.status == 200 && revalidated.text == "body")
            #expect(revalidated.headers["Cache-Status"].first == "Portico; fwd=stale; fwd-status=304; ttl=60")
            #expect(revalidated.headers["X-Note"].first == "second")
            #expect(revalidated.headers["Age"].first == "0")
            let after = try await s.get("/c/a")
            #expect(
                after.headers["X-Note"].first == "second"
                    && after.headers["Cache-Status"].first == "Portico; hit; ttl=60")
            #expect(s.origin.count("/c/a") == 2)
        }
    }

    @Test("Age: the origin's Age and the time resident in the cache add up")
    func ageEndToEnd() async throws {
        try await Self.run { s in
            s.origin.set("/c/aged", [("Cache-Control", "max-age=100"), ("Age", "10")])
            _ = try await s.get("/c/aged")
            s.clock.advance(5)
            let hit = try await s.get("/c/aged")
            #expect(hit.headers["Age"].first == "15")
            #expect(hit.headers["Cache-Status"].first == "Portico; hit; ttl=85")
        }
    }

    @Test(
        "s-maxage wins over max-age and forbids serving stale; Expires, the default TTL and the heuristic give freshness"
    )
    func freshnessSources() async throws {
        try await Self.run { s in
            s.origin.set("/c/s", [("Cache-Control", "max-age=1, s-maxage=100")])
            _ = try await s.get("/c/s")
            s.clock.advance(50)
            #expect(try await s.get("/c/s").headers["Cache-Status"].first == "Portico; hit; ttl=50")

            s.origin.set("/c/expires", [("Expires", HTTPDate.format(s.clock.now() + 30))])
            _ = try await s.get("/c/expires")
            s.clock.advance(20)
            #expect(try await s.get("/c/expires").headers["Cache-Status"].first == "Portico; hit; ttl=10")
            s.clock.advance(20)
            // Stale without a validator: fetched again in full.
            #expect(
                try await s.get("/c/expires").headers["Cache-Status"].first
                    == "Portico; fwd=stale; fwd-status=200; stored")
            #expect(s.origin.count("/c/expires") == 2)

            // No freshness information: not stored on a route without a default TTL (no validator either)…
            s.origin.set("/c/bare", [])
            _ = try await s.get("/c/bare")
            #expect(
                try await s.get("/c/bare").headers["Cache-Status"].first
                    == "Portico; fwd=uri-miss; fwd-status=200; detail=\"no freshness\"")
            // …and fresh for the default TTL on a route with one.
            s.origin.set("/ttl/bare", [])
            _ = try await s.get("/ttl/bare")
            s.clock.advance(25)
            #expect(try await s.get("/ttl/bare").headers["Cache-Status"].first == "Portico; hit; ttl=5")

            // Heuristic: Last-Modified 200 s before Date gives 20 s.
            s.origin.set("/c/modified", [("Last-Modified", HTTPDate.format(s.clock.now() - 200))])
            _ = try await s.get("/c/modified")
            s.clock.advance(15)
            #expect(try await s.get("/c/modified").headers["Cache-Status"].first == "Portico; hit; ttl=5")
            s.clock.advance(10)
            let stale = try await s.get("/c/modified")
            #expect(stale.headers["Cache-Status"].first?.hasPrefix("Portico; fwd=stale") == true)
            #expect(s.origin.lastHeaders("/c/modified")?[.ifModifiedSince] != nil)
        }
    }

    @Test("no-store, private and Set-Cookie responses are not stored; qualified private drops only the named fields")
    func notStored() async throws {
        try await Self.run { s in
            for (path, header, reason) in [
                ("/c/nostore", "no-store", "no-store"), ("/c/private", "private, max-age=60", "private"),
            ] {
                s.origin.set(path, [("Cache-Control", header)])
                _ = try await s.get(path)
                let again = try await s.get(path)
                #expect(
                    again.headers["Cache-Status"].first == "Portico; fwd=uri-miss; fwd-status=200; detail=\"\(reason)\""
                )
                #expect(s.origin.count(path) == 2)
            }
            s.origin.set("/c/cookie", [("Cache-Control", "max-age=60"), ("Set-Cookie", "session=1")])
            _ = try await s.get("/c/cookie")
            _ = try await s.get("/c/cookie")
            #expect(s.origin.count("/c/cookie") == 2)

            s.origin.set(
                "/c/qualified",
                [("Cache-Control", "max-age=60, private=\"X-Secret\""), ("X-Secret", "s3"), ("X-Open", "o")])
            let first = try await s.get("/c/qualified")
            #expect(first.headers["X-Secret"].first == "s3")
            let hit = try await s.get("/c/qualified")
            #expect(hit.headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)
            #expect(hit.headers["X-Secret"].isEmpty && hit.headers["X-Open"].first == "o")

            // A request's no-store keeps its response out of the store.
            s.origin.set("/c/asked", [("Cache-Control", "max-age=60")])
            let refused = try await s.get("/c/asked", [("Cache-Control", "no-store")])
            #expect(
                refused.headers["Cache-Status"].first
                    == "Portico; fwd=uri-miss; fwd-status=200; detail=\"request no-store\"")
            _ = try await s.get("/c/asked")
            #expect(s.origin.count("/c/asked") == 2)
        }
    }

    @Test(
        "no-cache responses are stored but revalidated every time; a request's no-cache and max-age=0 force revalidation"
    )
    func noCache() async throws {
        try await Self.run { s in
            s.origin.set("/c/nc", [("Cache-Control", "no-cache"), ("ETag", "\"n\"")])
            _ = try await s.get("/c/nc")
            let second = try await s.get("/c/nc")
            #expect(second.headers["Cache-Status"].first == "Portico; fwd=stale; fwd-status=304; ttl=0")
            #expect(s.origin.lastHeaders("/c/nc")?[.ifNoneMatch] == "\"n\"")

            s.origin.set("/c/fresh", [("Cache-Control", "max-age=600"), ("ETag", "\"f\"")])
            _ = try await s.get("/c/fresh")
            for asked in ["no-cache", "max-age=0"] {
                s.clock.advance(1)  // a response just revalidated has age 0, which max-age=0 accepts
                let forced = try await s.get("/c/fresh", [("Cache-Control", asked)])
                #expect(forced.headers["Cache-Status"].first == "Portico; fwd=request; fwd-status=304; ttl=600")
            }
            let pragma = try await s.get("/c/fresh", [("Pragma", "no-cache")])
            #expect(pragma.headers["Cache-Status"].first?.contains("fwd=request") == true)
            #expect(s.origin.count("/c/fresh") == 4)
        }
    }

    @Test("Request directives: min-fresh, max-stale (with and without a limit), only-if-cached")
    func requestDirectives() async throws {
        try await Self.run { s in
            s.origin.set("/c/r", [("Cache-Control", "max-age=30"), ("ETag", "\"r\"")])
            let none = try await s.get("/c/r", [("Cache-Control", "only-if-cached")])
            #expect(none.status == 504)
            #expect(none.headers["Cache-Status"].first == "Portico; detail=\"only-if-cached\"")
            #expect(s.origin.count("/c/r") == 0)
            _ = try await s.get("/c/r")
            #expect(try await s.get("/c/r", [("Cache-Control", "only-if-cached")]).status == 200)

            s.clock.advance(20)
            let minFresh = try await s.get("/c/r", [("Cache-Control", "min-fresh=15")])
            #expect(minFresh.headers["Cache-Status"].first?.contains("fwd=request") == true)
            #expect(s.origin.count("/c/r") == 2)

            s.clock.advance(40)  // 10 s stale
            let anyStale = try await s.get("/c/r", [("Cache-Control", "max-stale")])
            #expect(anyStale.headers["Cache-Status"].first == "Portico; hit; ttl=-10; detail=\"max-stale\"")
            let limited = try await s.get("/c/r", [("Cache-Control", "max-stale=5")])
            #expect(limited.headers["Cache-Status"].first?.hasPrefix("Portico; fwd=stale") == true)
            #expect(s.origin.count("/c/r") == 3)
        }
    }

    @Test("must-revalidate and proxy-revalidate: never served stale, not even with max-stale or on an upstream error")
    func mustRevalidate() async throws {
        try await Self.run { s in
            for directive in ["must-revalidate", "proxy-revalidate"] {
                let path = "/c/\(directive)"
                s.origin.set(
                    path, [("Cache-Control", "max-age=10, \(directive), stale-if-error=600"), ("ETag", "\"m\"")])
                _ = try await s.get(path)
                s.clock.advance(20)
                let asked = try await s.get(path, [("Cache-Control", "max-stale")])
                #expect(asked.headers["Cache-Status"].first?.hasPrefix("Portico; fwd=stale; fwd-status=304") == true)
                s.clock.advance(20)
                s.origin.set(path, status: 500, [("Cache-Control", "no-store")], body: "down")
                let failed = try await s.get(path)
                #expect(failed.status == 500 && failed.text == "down")
            }
        }
    }

    @Test("Conditional requests from clients are answered from the cache with 304")
    func clientConditionals() async throws {
        try await Self.run { s in
            let modified = HTTPDate.format(s.clock.now() - 3600)
            s.origin.set(
                "/c/cond",
                [
                    ("Cache-Control", "max-age=60"), ("ETag", "W/\"c1\""), ("Last-Modified", modified),
                    ("Content-Type", "text/plain"),
                ])
            _ = try await s.get("/c/cond")
            let matched = try await s.get("/c/cond", [("If-None-Match", "\"other\", \"c1\"")])
            #expect(matched.status == 304 && matched.body.readableBytes == 0)
            #expect(
                matched.headers["ETag"].first == "W/\"c1\""
                    && matched.headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)
            #expect(try await s.get("/c/cond", [("If-None-Match", "\"other\"")]).status == 200)
            #expect(try await s.get("/c/cond", [("If-Modified-Since", HTTPDate.format(s.clock.now()))]).status == 304)
            #expect(
                try await s.get("/c/cond", [("If-Modified-Since", HTTPDate.format(s.clock.now() - 7200))]).status == 200
            )
            #expect(s.origin.count("/c/cond") == 1)

            // On a miss the client's validators are not passed on: the full response is fetched and stored, the client gets 304.
            s.origin.set("/c/cold", [("Cache-Control", "max-age=60"), ("ETag", "\"k\"")])
            let cold = try await s.get("/c/cold", [("If-None-Match", "\"k\"")])
            #expect(cold.status == 304)
            #expect(s.origin.lastHeaders("/c/cold")?[.ifNoneMatch] == nil)
            try await waitFor {
                try await s.get("/c/cold").headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true
            }
            #expect(try await s.get("/c/cold").text == "body")
            #expect(s.origin.count("/c/cold") == 1)
        }
    }

    @Test("Vary: one entry per value of the named request headers, from the response's Vary and the route's vary-on")
    func vary() async throws {
        try await Self.run { s in
            s.origin.set("/c/lang", [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")])
            #expect(
                try await s.get("/c/lang", [("Accept-Language", "en")]).headers["Cache-Status"].first?.contains(
                    "uri-miss") == true)
            let german = try await s.get("/c/lang", [("Accept-Language", "de")])
            #expect(german.headers["Cache-Status"].first?.contains("fwd=vary-miss") == true)
            #expect(try await s.get("/c/lang", [("Accept-Language", "en")]).headers["X-Served"].first == "1")
            #expect(try await s.get("/c/lang", [("Accept-Language", "de")]).headers["X-Served"].first == "2")
            #expect(try await s.get("/c/lang").headers["Cache-Status"].first?.contains("vary-miss") == true)
            #expect(s.origin.count("/c/lang") == 3)

            s.origin.set("/v/lang", [("Cache-Control", "max-age=60")])
            let first = try await s.get("/v/lang", [("Accept-Language", "en")])
            #expect(first.headers["Vary"].first == "Accept-Language")
            _ = try await s.get("/v/lang", [("Accept-Language", "fr")])
            #expect(try await s.get("/v/lang", [("Accept-Language", "en")]).headers["X-Served"].first == "1")
            #expect(s.origin.count("/v/lang") == 2)

            s.origin.set("/c/star", [("Cache-Control", "max-age=60"), ("Vary", "*")])
            _ = try await s.get("/c/star")
            #expect(try await s.get("/c/star").headers["Cache-Status"].first?.contains("detail=\"vary *\"") == true)
        }
    }

    @Test("Requests with credentials: shared only when the response allows it, or per consumer with key: [consumer]")
    func authorization() async throws {
        try await Self.run { s in
            let alpha = [("X-API-Key", "alpha-key-0123456789abcdef")]
            let beta = [("X-API-Key", "beta-key-0123456789abcdef0")]
            s.origin.set("/shared/plain", [("Cache-Control", "max-age=60")])
            _ = try await s.get("/shared/plain", alpha)
            #expect(
                try await s.get("/shared/plain", alpha).headers["Cache-Status"].first?.contains(
                    "detail=\"authenticated\"") == true)
            s.origin.set("/shared/public", [("Cache-Control", "public, max-age=60")])
            _ = try await s.get("/shared/public", alpha)
            #expect(
                try await s.get("/shared/public", beta).headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true
            )
            #expect(try await s.get("/shared/public").status == 401)  // the cache never answers before auth

            s.origin.set("/c/bearer", [("Cache-Control", "max-age=60")])
            _ = try await s.get("/c/bearer", [("Authorization", "Bearer x")])
            _ = try await s.get("/c/bearer", [("Authorization", "Bearer x")])
            #expect(s.origin.count("/c/bearer") == 2)

            s.origin.set("/mine/data", [("Cache-Control", "max-age=60")])
            _ = try await s.get("/mine/data", alpha)
            _ = try await s.get("/mine/data", beta)
            #expect(try await s.get("/mine/data", alpha).headers["X-Served"].first == "1")
            #expect(try await s.get("/mine/data", beta).headers["X-Served"].first == "2")
            #expect(s.origin.count("/mine/data") == 2)
        }
    }

    @Test("stale-while-revalidate: the stale copy is served at once while exactly one background refresh runs")
    func staleWhileRevalidate() async throws {
        try await Self.run { s in
            s.origin.set("/c/swr", [("Cache-Control", "max-age=10, stale-while-revalidate=60")], body: "old")
            _ = try await s.get("/c/swr")
            s.origin.set(
                "/c/swr",
                ScriptedOrigin.Reply(
                    headers: [("Cache-Control", "max-age=10, stale-while-revalidate=60")], body: "new",
                    delay: .milliseconds(300)))
            s.clock.advance(15)
            let answers = try await withThrowingTaskGroup(of: TestClient.Answer.self) { group in
                for _ in 0..<5 { group.addTask { try await s.get("/c/swr") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for answer in answers {
                #expect(answer.text == "old")
                #expect(
                    answer.headers["Cache-Status"].first == "Portico; hit; ttl=-5; detail=\"stale-while-revalidate\"")
            }
            try await waitFor { try await s.get("/c/swr").text == "new" }
            #expect(s.origin.count("/c/swr") == 2)
            #expect(try await s.get("/c/swr").headers["Cache-Status"].first?.hasPrefix("Portico; hit; ttl=") == true)

            // Past the window it is an ordinary revalidation.
            s.origin.set("/c/swr", [("Cache-Control", "max-age=10, stale-while-revalidate=60")], body: "newest")
            s.clock.advance(100)
            #expect(try await s.get("/c/swr").text == "newest")
        }
    }

    @Test("stale-if-error: a stale copy stands in for a 5xx or an unreachable upstream within the window, not after it")
    func staleIfError() async throws {
        try await Self.run { s in
            s.origin.set("/c/sie", [("Cache-Control", "max-age=10, stale-if-error=60")], body: "kept")
            _ = try await s.get("/c/sie")
            s.clock.advance(20)
            s.origin.set("/c/sie", status: 503, [], body: "down")
            let stale = try await s.get("/c/sie")
            #expect(stale.status == 200 && stale.text == "kept")
            #expect(
                stale.headers["Cache-Status"].first
                    == "Portico; fwd=stale; fwd-status=503; ttl=-10; detail=\"stale-if-error\"")
            // The request can ask for it too.
            s.origin.set("/c/req-sie", [("Cache-Control", "max-age=10")], body: "kept")
            _ = try await s.get("/c/req-sie")
            s.clock.advance(20)
            s.origin.set("/c/req-sie", status: 500, [], body: "down")
            #expect(try await s.get("/c/req-sie").text == "down")
            #expect(try await s.get("/c/req-sie", [("Cache-Control", "stale-if-error=30")]).text == "kept")
            s.clock.advance(100)
            let late = try await s.get("/c/sie")
            #expect(late.status == 503 && late.text == "down")
        }
    }

    @Test("stale-if-error when the upstream cannot be reached at all")
    func staleIfUnreachable() async throws {
        let clock = TestClock()
        let origin = ScriptedOrigin(clock: clock)
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let yaml =
            upstreamYAML(name: "origin", port: port)
            + "\napis:\n  - {name: c, base-path: /c, upstream: origin, strip-base-path: false, cache: true}\n"
        try await GatewayHarness.with(yaml: yaml, wallClock: { clock.now() }) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let refused = try await client.send(.GET, "/c/x")
                #expect(refused.status == 502)
                #expect(refused.headers["Cache-Status"].first == "Portico; fwd=uri-miss")
            }
        }
        try await origin.serve { livePort in
            let yaml =
                upstreamYAML(name: "origin", port: livePort)
                + "\napis:\n  - {name: c, base-path: /c, upstream: origin, strip-base-path: false, cache: true}\n"
            try await GatewayHarness.with(yaml: yaml, wallClock: { clock.now() }) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    origin.set("/c/x", [("Cache-Control", "max-age=1, stale-if-error=60")], body: "kept")
                    _ = try await client.send(.GET, "/c/x")
                    clock.advance(5)
                    // Point the upstream at the dead port by reloading the config.
                    try upstreamYAML(name: "origin", port: port).appending(
                        "\napis:\n  - {name: c, base-path: /c, upstream: origin, strip-base-path: false, cache: true}\n"
                    )
                    .appending("listen: 127.0.0.1:0\nstore:\n  sqlite: portico.sqlite\nserver:\n  access-log: false\n")
                    .write(toFile: gateway.folder + "/gateway.yaml", atomically: true, encoding: .utf8)
                    _ = await gateway.app.runtime.reload(trigger: "test")
                    let stale = try await client.send(.GET, "/c/x")
                    #expect(stale.status == 200 && stale.text == "kept")
                    #expect(
                        stale.headers["Cache-Status"].first
                            == "Portico; fwd=stale; fwd-status=502; ttl=-4; detail=\"stale-if-error\"")
                }
            }
        }
    }

    @Test("Unsafe methods invalidate the target URI and the Location and Content-Location URIs")
    func invalidation() async throws {
        try await Self.run { s in
            for path in ["/c/item", "/c/other", "/c/third", "/c/item?page=2"] {
                s.origin.set(String(path.split(separator: "?")[0]), [("Cache-Control", "max-age=600")])
                _ = try await s.get(path)
            }
            #expect(try await s.get("/c/item").headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)
            s.origin.set(
                "/c/item", status: 200,
                [("Location", "/c/other"), ("Content-Location", "http://127.0.0.1:\(s.gateway.port)/c/third")])
            let post = try await s.client.send(.POST, "/c/item", body: .bytes(ByteBuffer(string: "x")))
            #expect(post.headers["Cache-Status"].first == "Portico; fwd=method")
            s.origin.set("/c/item", [("Cache-Control", "max-age=600")])
            #expect(try await s.get("/c/item").headers["Cache-Status"].first?.contains("uri-miss") == true)
            #expect(try await s.get("/c/other").headers["Cache-Status"].first?.contains("uri-miss") == true)
            #expect(try await s.get("/c/third").headers["Cache-Status"].first?.contains("uri-miss") == true)
            // Another query is another URI.
            #expect(try await s.get("/c/item?page=2").headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)

            // A failed unsafe request invalidates nothing.
            s.origin.set("/c/item", status: 500, [])
            _ = try await s.client.send(.DELETE, "/c/item")
            s.origin.set("/c/item", [("Cache-Control", "max-age=600")])
            #expect(try await s.get("/c/item").headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)
            for method in [HTTPMethod.PUT, .PATCH, .DELETE] {
                s.origin.set("/c/item", status: 204, [])
                _ = try await s.client.send(method, "/c/item")
                s.origin.set("/c/item", [("Cache-Control", "max-age=600")])
                #expect(try await s.get("/c/item").headers["Cache-Status"].first?.contains("uri-miss") == true)
            }
        }
    }

    @Test("Purge on the admin API by URL, by prefix, by tag and all; token required")
    func purge() async throws {
        try await Self.run { s in
            for (path, tags) in [
                ("/t/a", "pets cats"), ("/t/b", "pets"), ("/t/sub/c", "dogs"), ("/t/sub/d", "birds"), ("/c/e", ""),
            ] {
                s.origin.set(path, [("Cache-Control", "max-age=600"), ("Surrogate-Key", tags)])
                _ = try await s.get(path)
            }
            func cached(_ path: String) async throws -> Bool {
                try await s.get(path, [("Cache-Control", "only-if-cached")]).status == 200
            }
            let noToken = try await TestClient(
                client: s.client.client, baseURL: "http://127.0.0.1:\(s.gateway.adminPort!)"
            )
            .send(.POST, "/admin/cache/purge", body: .bytes(ByteBuffer(string: "{\"all\":true}")))
            #expect(noToken.status == 401)
            #expect(try await cached("/t/a"))

            #expect(
                try await s.admin.send(.POST, "/admin/cache/purge", json: "{\"tag\":\"cats\"}").json()["purged"] as? Int
                    == 1)
            #expect(try await !cached("/t/a"))
            #expect(try await cached("/t/b"))
            #expect(
                try await s.admin.send(.POST, "/admin/cache/purge", json: "{\"url\":\"/t/b\"}").json()["purged"] as? Int
                    == 1)
            #expect(try await !cached("/t/b"))
            #expect(
                try await s.admin.send(.POST, "/admin/cache/purge", json: "{\"prefix\":\"/t/sub/\"}").json()["purged"]
                    as? Int == 2)
            #expect(try await !cached("/t/sub/c"))
            #expect(try await !cached("/t/sub/d"))
            #expect(try await cached("/c/e"))
            let bad = try await s.admin.send(.POST, "/admin/cache/purge", json: "{\"url\":\"/x\",\"tag\":\"y\"}")
            #expect(bad.status == 400 && bad.headers["Content-Type"].first == "application/problem+json")
            let stats = try await s.admin.send(.GET, "/admin/cache").json()
            #expect(stats["entries"] as? Int == 1)
            #expect(
                try await s.admin.send(.POST, "/admin/cache/purge", json: "{\"all\":true}").json()["purged"] as? Int
                    == 1)
            #expect(try await !cached("/c/e"))
        }
    }

    @Test("Coalescing: 100 concurrent requests for a cold key make exactly one upstream request")
    func coalescing() async throws {
        try await Self.run { s in
            s.origin.set(
                "/c/cold",
                ScriptedOrigin.Reply(
                    headers: [("Cache-Control", "max-age=60")], body: "shared", delay: .milliseconds(500)))
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 100)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let client = TestClient(client: http, baseURL: s.gateway.baseURL)
            let answers = try await withThrowingTaskGroup(of: TestClient.Answer.self) { group in
                for _ in 0..<100 { group.addTask { try await client.send(.GET, "/c/cold") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await http.shutdown()
            #expect(s.origin.count("/c/cold") == 1)
            #expect(answers.count == 100 && answers.allSatisfy { $0.status == 200 && $0.text == "shared" })
            let collapsed = answers.filter { $0.headers["Cache-Status"].first?.contains("collapsed") == true }.count
            #expect(collapsed > 1, "requests waited on the leader rather than arriving after it")
        }
    }

    @Test("Objects over max-object-size stream through uncached; only the configured statuses are stored")
    func sizeAndStatus() async throws {
        try await Self.run { s in
            let big = String(repeating: "b", count: 4096)
            s.origin.set("/t/big", [("Cache-Control", "max-age=60")], body: big)
            #expect(try await s.get("/t/big").text == big)
            let again = try await s.get("/t/big")
            #expect(again.text == big && again.headers["Cache-Status"].first?.contains("detail=\"too large\"") == true)
            s.origin.set("/t/missing", status: 404, [("Cache-Control", "max-age=60")], body: "nope")
            _ = try await s.get("/t/missing")
            #expect(try await s.get("/t/missing").headers["Cache-Status"].first?.hasPrefix("Portico; hit") == true)
            s.origin.set("/t/gone", status: 410, [("Cache-Control", "max-age=60")], body: "gone")
            _ = try await s.get("/t/gone")
            #expect(try await s.get("/t/gone").headers["Cache-Status"].first?.contains("detail=\"status 410\"") == true)
        }
    }

    @Test("The byte budget holds: least recently used entries are evicted first")
    func budgetAndLRU() async throws {
        try await Self.run(memory: "64KiB") { s in
            let body = String(repeating: "z", count: 20_000)
            for name in ["one", "two", "three"] {
                s.origin.set("/c/\(name)", [("Cache-Control", "max-age=600")], body: body)
                _ = try await s.get("/c/\(name)")
            }
            _ = try await s.get("/c/one")  // now the most recently used
            s.origin.set("/c/four", [("Cache-Control", "max-age=600")], body: body)
            _ = try await s.get("/c/four")
            func cached(_ path: String) async throws -> Bool {
                try await s.get(path, [("Cache-Control", "only-if-cached")]).status == 200
            }
            let held = [
                try await cached("/c/one"), try await cached("/c/two"), try await cached("/c/three"),
                try await cached("/c/four"),
            ]
            #expect(held == [true, false, true, true])
            let stats = try await s.admin.send(.GET, "/admin/cache").json()
            #expect((stats["bytes"] as? Int ?? .max) <= 64 * 1024)
            #expect(stats["evictions"] as? Int == 1)
        }
    }

    @Test("The call log records what the cache did")
    func callLog() async throws {
        try await Self.run { s in
            s.origin.set("/c/logged", [("Cache-Control", "max-age=60")])
            _ = try await s.get("/c/logged")
            _ = try await s.get("/c/logged")
            try await s.gateway.app.callLog.flush()
            let calls =
                try await s.admin.send(.GET, "/admin/analytics/calls?since=1h&limit=100").json()["calls"]
                as? [[String: Any]] ?? []
            let logged = calls.filter { $0["path"] as? String == "/c/logged" }
            #expect(logged.compactMap { $0["cache"] as? String }.sorted() == ["hit", "miss"])
        }
    }
}

/// Polls `condition` until it holds, for at most `seconds`.
func waitFor(seconds: Double = 5, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(seconds) s")
}
