import Foundation
import Logging
import NIOCore
import NIOPosix
import PorticoConfig
import PorticoRedis
import PorticoTesting
import Testing

@testable import PorticoGateway

#if canImport(Glibc)
    import Glibc
#endif

/// A small seeded generator, so a failing sequence can be run again.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Rate limits in Redis", .serialized)
struct RedisLimitTests {
    /// A store on `server`; the timeout is long, so that a loaded machine never turns a decision
    /// into a failed-over one (the equivalence test would see the local store's answer).
    static func store(_ server: RedisServer, timeout: TimeAmount = .seconds(10)) async throws -> RedisLimiterStore {
        let client = try RedisClientTests.client(server.url, timeout: timeout)
        try await RedisClientTests.connected(client)
        var logger = Logger(label: "redis.limits")
        logger.logLevel = .critical
        return RedisLimiterStore(client: client, prefix: "test:", fallbackKeys: 1000, logger: logger)
    }

    static func limit(
        rate: String? = nil, burst: Int? = nil, quota: String? = nil, algorithm: LimitConfig.Algorithm = .gcra
    ) -> CompiledLimit {
        var config = LimitConfig(
            rate: rate.flatMap(RateSpec.init(parsing:)), burst: burst, quota: quota.flatMap(QuotaSpec.init(parsing:)))
        config.algorithm = algorithm
        return CompiledLimit(
            config: config, name: "t", scope: "\(rate ?? "")|\(quota ?? "")|\(algorithm)",
            timeZone: TimeZone(identifier: "Europe/Berlin")!)
    }

    /// Waits (up to `tries` × 20 ms) until the gateway behind `admin` has a Redis connection up.
    static func waitForRedis(_ admin: AdminClient, tries: Int = 150) async throws {
        for _ in 0..<tries {
            let store = try await admin.send(.GET, "/admin/status").json()["limit_store"] as? [String: Any]
            if (store?["connected"] as? Int ?? 0) > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("the script decides exactly as the in-memory store, request by request, and leaves the same state")
    func sameAsMemory() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        let store = try await Self.store(server)
        defer { store.client.shutdown() }
        let limits = [
            Self.limit(rate: "5/s", burst: 10),
            Self.limit(rate: "7/m", burst: 3),
            Self.limit(rate: "10/s", algorithm: .slidingWindow),
            Self.limit(rate: "30/m", burst: 40, algorithm: .slidingWindow),
            Self.limit(quota: "25/hour"),
            Self.limit(rate: "3/s", quota: "60/day"),
            Self.limit(rate: "20/s", burst: 5, quota: "100/month", algorithm: .slidingWindow),
        ]
        var random = SplitMix(state: 20_261_202)
        // Just before a Berlin midnight at the end of a month, so the quota windows roll too.
        let start: Int64 = 1_767_221_990 * 1_000_000_000 + 123_456_789
        for (index, limit) in limits.enumerated() {
            var entry = CompiledLimit.Entry()
            // Redis expires keys in real time, by a TTL computed from this clock: so this clock never
            // runs slower than the real one, and a key Redis has dropped is one the in-memory entry
            // holds nothing of (idle: it decides as a fresh one).
            let began = ContinuousClock.now
            var gaps: Int64 = 0
            var now = start
            var allowed = 0
            for step in 0..<300 {
                // Mostly small steps (bursts, and the microsecond boundaries), now and then a long pause.
                let gap: Int64 =
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0..<5: Int64.random(in: 0...2_000_000, using: &random)
                    case 5..<9: Int64.random(in: 0...400_000_000, using: &random)
                    default: Int64.random(in: 0...30_000_000_000, using: &random)
                    }
                gaps += gap
                let real = ContinuousClock.now - began
                now =
                    start + gaps + real.components.seconds * 1_000_000_000 + real.components.attoseconds / 1_000_000_000
                let cost = Int.random(in: 1...3, using: &random)
                let expected = limit.apply(to: &entry, cost: cost, now: now)
                let decided = try await store.decide("client", limit: limit, cost: cost, now: now)
                #expect(decided == expected, "limit \(index), step \(step), now \(now), cost \(cost)")
                if expected.allSatisfy(\.allowed) { allowed += 1 }
            }
            #expect(
                allowed > 20 && allowed < 300, "limit \(index) admitted \(allowed): the sequence must test both answers"
            )
            let key = store.key("client", limit: limit)
            let fields = try await store.client.send(
                RESPCommand([Array("HMGET".utf8), key] + LimitScript.fields.map { Array($0.utf8) })
            ).get()
            if fields.elements?.allSatisfy({ $0 == .null }) == true {
                #expect(entry.idleAt <= now + 1_000_000_000, "limit \(index): Redis dropped a key that is not idle")
            } else {
                var stored = try LimitScript.entry(from: .array([.integer(1)] + (fields.elements ?? []))).entry
                stored.idleAt = entry.idleAt
                #expect(stored == entry, "limit \(index)")
            }
        }
        // Keys expire a minute after they would be idle: three units of a 5/s limit are 600 ms.
        let now = LimitContext.wallClockNanoseconds()
        _ = try await store.decide("ttl", limit: limits[0], cost: 3, now: now)
        let ttl =
            try await store.client.send(RESPCommand([Array("PTTL".utf8), store.key("ttl", limit: limits[0])])).get()
            .int64 ?? -1
        #expect(ttl > 60_000 && ttl <= 60_600, "\(ttl) ms")
    }

    @Test("config: the store's URL and settings, on-store-failure, node.id, and the bounds that keep the script exact")
    func config() throws {
        let base = "upstreams:\n  b: {targets: [{url: 'http://127.0.0.1:1'}]}\n"
        let good = try loadConfig(
            """
            node: {id: edge-1}
            limits:
              store: {url: "redis://gw:p%40ss@redis.internal:6380/2", timeout: 80ms, connections: 2, prefix: "pc:"}
              on-store-failure: deny
            plans:
              gold: {rate: 10/s, on-store-failure: allow}
            \(base)apis:
              - {name: a, upstream: b, rate-limit: [{rate: 5/s}, {rate: 1/s, on-store-failure: local}]}
            """)
        #expect(good.node.id == "edge-1")
        let store = try #require(good.limits.store)
        #expect(store.url == RedisURL(host: "redis.internal", port: 6380, user: "gw", password: "p@ss", database: 2))
        #expect(store.timeout == ConfigDuration(milliseconds: 80) && store.connections == 2 && store.prefix == "pc:")
        #expect(good.limits.onStoreFailure == .deny)
        #expect(good.plans["gold"]?.onStoreFailure == .allow)
        #expect(good.apis[0].policies.limits.rateLimits?.map(\.onStoreFailure) == [nil, .local])
        #expect(try loadConfig(base + "limits: {store: memory}\napis: [{name: a, upstream: b}]").limits.store == nil)
        #expect(
            try loadConfig(base + "limits: {store: 'redis://127.0.0.1'}\napis: [{name: a, upstream: b}]").limits.store?
                .url.port == 6379)

        func problems(_ yaml: String) throws -> [String] {
            try configDiagnostics(base + yaml).map { "\($0.line): \($0.message)" }
        }
        #expect(
            try problems("limits: {store: 'http://redis:6379'}\napis: [{name: a, upstream: b}]") == [
                "3: limits.store: bad Redis URL: it must start with redis:// or rediss:// (write it like redis://:password@host:6379/0, or memory)"
            ])
        #expect(
            try problems(
                "limits: {store: {url: 'redis://h', timeout: 0s, connections: 99, ca: x.pem}, on-store-failure: maybe}\napis: [{name: a, upstream: b}]"
            ) == [
                "3: limits.store.timeout must be at least 1ms",
                "3: limits.store.connections must be between 1 and 16, found 99",
                "3: limits.store.ca needs a rediss:// url (TLS)",
                "3: limits.store.ca: cannot read file 'x.pem'",
                "3: limits.on-store-failure: unknown value 'maybe' (known: allow, deny, local)",
            ])
        #expect(
            try problems("apis: [{name: a, upstream: b, rate-limit: {rate: 2000000/s}}]") == [
                "3: API 'a' rate-limit: bad rate '2000000/s' (write it like 10/s, 600/m, 1000/h or 5000/d; at most 1000000/s)"
            ])
        #expect(
            try problems("apis: [{name: a, upstream: b, rate-limit: {rate: 60000000/d, algorithm: sliding-window}}]")
                == [
                    "3: API 'a' rate-limit: a sliding window of 60000000 per 86400s is too large (its limit × window in ms must be at most 2^52; use gcra)"
                ])
        #expect(try problems("node: {id: ''}\napis: [{name: a, upstream: b}]") == ["3: node.id must not be empty"])
    }

    @Test("peek reads a key's state without charging it")
    func peek() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        let store = try await Self.store(server)
        defer { store.client.shutdown() }
        let limit = Self.limit(rate: "10/m", burst: 10)
        let now = LimitContext.wallClockNanoseconds()
        #expect(try await store.peek("k", limits: [limit], now: now).isEmpty)
        for _ in 0..<4 { _ = try await store.decide("k", limit: limit, cost: 1, now: now) }
        let seen = try await store.peek("k", limits: [limit], now: now)
        #expect(seen.count == 1 && seen[0].remaining == 6)
        #expect(try await store.peek("k", limits: [limit], now: now)[0].remaining == 6)
    }

    @Test("with Redis stopped each limit follows on-store-failure, at once; counting resumes in Redis when it is back")
    func storeFailure() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        try await withUpstream { upstreamPort in
            let yaml = """
                admin:
                  listen: 127.0.0.1:0
                  token: test-admin-token-0123456789abcdef
                limits:
                  store: {url: "\(server.url)", timeout: 3s}
                  on-store-failure: local
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - name: allowing
                    base-path: /allow
                    upstream: backend
                    rate-limit: {rate: 3/m, by: [api], on-store-failure: allow}
                  - name: denying
                    base-path: /deny
                    upstream: backend
                    rate-limit: {rate: 3/m, by: [api], on-store-failure: deny}
                  - name: local
                    base-path: /local
                    upstream: backend
                    rate-limit: {rate: 3/m, by: [api]}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let admin = adminClient(client, port: gateway.adminPort!)
                    try await Self.waitForRedis(admin)
                    func statuses(_ path: String, _ count: Int) async throws -> [Int] {
                        var result: [Int] = []
                        for _ in 0..<count { result.append(try await client.send(.GET, path).status) }
                        return result
                    }
                    // Redis counts: three, then 429, on every route.
                    for base in ["/allow", "/deny", "/local"] {
                        #expect(try await statuses(base + "/echo/a", 4) == [200, 200, 200, 429], "\(base)")
                    }
                    let first = try await client.send(.GET, "/local/echo/a")
                    #expect(first.headers["RateLimit"].first?.contains("r=0") == true)
                    let status = try await admin.send(.GET, "/admin/status").json()["limit_store"] as? [String: Any]
                    #expect(status?["kind"] as? String == "redis" && status?["protocol"] as? Int == 3)
                    #expect(status?["degraded_since"] == nil, "a null field is left out")

                    server.stop()
                    try await Task.sleep(for: .milliseconds(100))
                    let started = ContinuousClock.now
                    #expect(try await statuses("/allow/echo/b", 5) == [200, 200, 200, 200, 200])
                    let denied = try await client.send(.GET, "/deny/echo/b")
                    #expect(denied.status == 503)
                    #expect(
                        try denied.json()["type"] as? String == "https://portico.dev/problems/limit-store-unavailable")
                    #expect(try denied.json()["request_id"] as? String != nil)
                    // Local: this node's own counters, fresh, so three more.
                    #expect(try await statuses("/local/echo/b", 4) == [200, 200, 200, 429])
                    #expect(ContinuousClock.now - started < .seconds(3), "no request waited for the stopped store")
                    let degraded = try await admin.send(.GET, "/admin/status").json()["limit_store"] as? [String: Any]
                    #expect(degraded?["connected"] as? Int == 0)
                    #expect(degraded?["degraded_since"] is String)
                    let failedOver = degraded?["failed_over"] as? [String: Int]
                    #expect(failedOver?["allow"] == 5 && failedOver?["deny"] == 1 && failedOver?["local"] == 4)
                    #expect(degraded?["local_keys"] as? Int == 1)
                    let metrics = try await admin.send(.GET, "/metrics").text
                    #expect(metrics.contains("portico_limit_store_failures_total{mode=\"local\"} 4"), "\(metrics)")
                    #expect(metrics.contains("portico_limit_store_degraded 1"))

                    // Back (empty: no persistence): the nodes reconnect and count in Redis again.
                    try await server.start()
                    try await Self.waitForRedis(admin)
                    #expect(try await statuses("/deny/echo/c", 4) == [200, 200, 200, 429])
                    let recovered = try await admin.send(.GET, "/admin/status").json()["limit_store"] as? [String: Any]
                    #expect(recovered?["degraded_since"] == nil)
                }
            }
        }
    }

    @Test("Redis stopped and restarted under load: each mode answers as documented, no request waits, counting resumes")
    func storeFailureUnderLoad() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        try await withUpstream { upstreamPort in
            let yaml = """
                admin:
                  listen: 127.0.0.1:0
                  token: test-admin-token-0123456789abcdef
                limits:
                  store: {url: "\(server.url)", timeout: 2s}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - {name: allowing, base-path: /allow, upstream: backend, rate-limit: {rate: 100000/m, by: [api], on-store-failure: allow}}
                  - {name: denying, base-path: /deny, upstream: backend, rate-limit: {rate: 100000/m, by: [api], on-store-failure: deny}}
                  - {name: local, base-path: /local, upstream: backend, rate-limit: {rate: 100000/m, by: [api], on-store-failure: local}}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let admin = adminClient(client, port: gateway.adminPort!)
                    try await Self.waitForRedis(admin)
                    struct Answer: Sendable {
                        let base: String; let status: Int; let took: Duration; let remaining: String?
                    }
                    let answers = Locked<[Answer]>([])
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for base in ["/allow", "/deny", "/local"] {
                            for _ in 0..<2 {
                                group.addTask {
                                    let end = ContinuousClock.now + .seconds(5)
                                    while ContinuousClock.now < end {
                                        let sent = ContinuousClock.now
                                        let answer = try await client.send(.GET, base + "/echo/load")
                                        let remaining = answer.headers["RateLimit"].first
                                        answers.withLock {
                                            $0.append(
                                                Answer(
                                                    base: base, status: answer.status, took: ContinuousClock.now - sent,
                                                    remaining: remaining))
                                        }
                                    }
                                }
                            }
                        }
                        try await Task.sleep(for: .seconds(1))
                        server.stop()
                        try await Task.sleep(for: .seconds(1.5))
                        try await server.start()
                        try await group.waitForAll()
                    }
                    let all = answers.withLock { $0 }
                    let slowest = all.map(\.took).max() ?? .zero
                    #expect(slowest < .seconds(2), "a request waited \(slowest)")
                    let byBase = Dictionary(grouping: all, by: \.base)
                    #expect(byBase["/allow"]?.allSatisfy { $0.status == 200 } == true)
                    #expect(byBase["/local"]?.allSatisfy { $0.status == 200 } == true)
                    let denied = byBase["/deny"] ?? []
                    #expect(denied.allSatisfy { $0.status == 200 || $0.status == 503 })
                    #expect(denied.contains { $0.status == 503 }, "the outage was seen")
                    // allow without Redis sends no RateLimit header; with Redis it does.
                    #expect(byBase["/allow"]?.contains { $0.remaining == nil } == true)
                    // Back: Redis counts again (its counter restarted empty, so the remaining count is near the top).
                    try await Self.waitForRedis(admin)
                    let after = try await client.send(.GET, "/deny/echo/after")
                    #expect(after.status == 200)
                    let last = denied.last { $0.status == 200 }?.remaining
                    #expect(after.headers["RateLimit"].first != nil && last != nil)
                    let failedOver =
                        (try await admin.send(.GET, "/admin/status").json()["limit_store"] as? [String: Any])?[
                            "failed_over"] as? [String: Int]
                    #expect(
                        (failedOver?["allow"] ?? 0) > 0 && (failedOver?["deny"] ?? 0) > 0
                            && (failedOver?["local"] ?? 0) > 0)
                }
            }
        }
    }

    @Test(
        "three gateway processes on one Redis share a limit of 100 per minute: 100 or 101 of 300 concurrent requests pass"
    )
    func threeNodes() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        try await withUpstream { upstreamPort in
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var nodes: [PorticoProcess] = []
            defer {
                for node in nodes {
                    kill(node.process.processIdentifier, SIGTERM)
                    _ = node.finish()
                }
            }
            for index in 0..<3 {
                let yaml = """
                    listen: 127.0.0.1:0
                    node: {id: node-\(index)}
                    store:
                      sqlite: node-\(index).sqlite
                    server:
                      access-log: false
                    limits:
                      store: {url: "\(server.url)", timeout: 5s}
                      on-store-failure: deny
                    \(upstreamYAML(port: upstreamPort))
                    apis:
                      - name: shared
                        base-path: /api
                        upstream: backend
                        rate-limit: {rate: 100/m, algorithm: sliding-window, by: [api]}
                    """
                let file = folder + "/node-\(index).yaml"
                try yaml.write(toFile: file, atomically: true, encoding: .utf8)
                nodes.append(try PorticoProcess(["serve", "--config", file]))
            }
            var ports: [Int] = []
            for node in nodes { ports.append(try await node.port(of: "gateway")) }
            try await withClient(baseURL: "http://127.0.0.1:\(ports[0])") { client in
                // Each node has its Redis connections before the burst.
                for port in ports {
                    for _ in 0..<250 {
                        let answer = try? await TestClient(client: client.client, baseURL: "http://127.0.0.1:\(port)")
                            .send(.GET, "/readyz")
                        if answer?.status == 200 { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<300 {
                        let node = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(ports[index % 3])")
                        group.addTask { try await node.send(.GET, "/api/echo/\(index)").status }
                    }
                    var all: [Int] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                let passed = statuses.filter { $0 == 200 }.count
                #expect((100...101).contains(passed), "\(passed) passed")
                #expect(statuses.filter { $0 == 429 }.count == 300 - passed)
            }
        }
    }
}
