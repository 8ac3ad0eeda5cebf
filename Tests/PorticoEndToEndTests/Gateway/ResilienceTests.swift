import AsyncHTTPClient
import Foundation
import NIOCore
import PorticoTesting
import Synchronization
import Testing

/// Answers counted by the client tasks.
final class Tally: Sendable {
    let failures = Atomic<Int>(0)
    let reasons = Mutex<[String]>([])
    let served = Mutex<[String: Int]>([:])
    /// Requests served since `mark()`; nil before it.
    let sinceMark = Mutex<Int?>(nil)

    func mark() { sinceMark.withLock { $0 = 0 } }

    func serve(_ text: String) {
        served.withLock { $0[text, default: 0] += 1 }
        sinceMark.withLock { if let count = $0 { $0 = count + 1 } }
    }

    func record(_ reason: String) {
        failures.add(1, ordering: .relaxed)
        reasons.withLock { $0.append(reason) }
    }
}

@Suite("Upstream resilience, end to end", .serialized)
struct ResilienceTests {
    /// Three controllable upstreams for the length of `body`.
    func withThree<T: Sendable>(_ body: ([ControllableUpstream]) async throws -> T) async throws -> T {
        var upstreams: [ControllableUpstream] = []
        for name in ["one", "two", "three"] { upstreams.append(try await ControllableUpstream(name: name)) }
        do {
            let result = try await body(upstreams)
            for upstream in upstreams { await upstream.stop() }
            return result
        } catch {
            for upstream in upstreams { await upstream.stop() }
            throw error
        }
    }

    func yaml(_ upstreams: [ControllableUpstream], settings: String) -> String {
        """
        admin: {listen: "127.0.0.1:0", token: test-admin-token-0123456789abcdef}
        server: {access-log: false, watch-config: false}
        upstreams:
          svc:
            targets:
        \(upstreams.map { "      - url: http://127.0.0.1:\($0.port)" }.joined(separator: "\n"))
        \(settings)
        apis:
          - {name: svc, base-path: /svc, upstream: svc}
        """
    }

    @Test("a target killed under load costs no request: its tries are retried elsewhere, then it gets none")
    func killedTarget() async throws {
        try await withThree { upstreams in
            let settings = """
                    retries: {attempts: 2, on: [connect-failure, reset, 502, 503, 504]}
                    health:
                      passive: {consecutive-failures: 1, ejection: 10s}
                """
            try await GatewayHarness.with(yaml: yaml(upstreams, settings: settings)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let tally = Tally()
                    // Traffic runs until 60 requests were served after the kill (so the killed
                    // target is picked and ejected however slow the machine is), 20 s at most.
                    let stopAt = ContinuousClock.now + .seconds(20)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<8 {
                            group.addTask {
                                while ContinuousClock.now < stopAt, (tally.sinceMark.withLock { $0 } ?? 0) < 60 {
                                    do {
                                        let answer = try await client.send(.GET, "/svc/work")
                                        if answer.status == 200 {
                                            tally.serve(answer.text)
                                        } else {
                                            tally.record("status \(answer.status): \(answer.text)")
                                        }
                                    } catch {
                                        tally.record("\(error)")
                                    }
                                }
                            }
                        }
                        try await Task.sleep(for: .milliseconds(500))
                        await upstreams[1].stop()
                        let countAtKill = upstreams[1].requestCount
                        tally.mark()
                        try await Task.sleep(for: .milliseconds(300))
                        #expect(upstreams[1].requestCount == countAtKill)
                        try await group.waitForAll()
                    }
                    #expect(tally.failures.load(ordering: .relaxed) == 0, "\(tally.reasons.withLock { $0 })")
                    let counts = tally.served.withLock { $0 }
                    // Both surviving targets kept serving (the rate itself depends on the machine's load).
                    #expect((counts["one"] ?? 0) > 2 && (counts["three"] ?? 0) > 2, "\(counts)")

                    let targets = try await adminTargets(client, adminPort: gateway.adminPort!)
                    #expect(targets.count == 3)
                    #expect(targets[1]["ejected"] as? Bool == true)
                    #expect(targets[0]["ejected"] as? Bool == false)
                }
            }
        }
    }

    @Test("a target drained through the admin API gets no traffic until it is put back")
    func drain() async throws {
        try await withThree { upstreams in
            try await GatewayHarness.with(yaml: yaml(upstreams, settings: "")) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
                    let auth = [("Authorization", "Bearer test-admin-token-0123456789abcdef")]
                    let drained = try await admin.send(.POST, "/admin/upstreams/svc/targets/0/drain", headers: auth)
                    #expect(drained.status == 200)
                    for _ in 0..<9 { #expect(try await client.send(.GET, "/svc/d").text != "one") }
                    #expect(upstreams[0].requestCount == 0)
                    #expect(
                        try await admin.send(.POST, "/admin/upstreams/svc/targets/0/undrain", headers: auth).status
                            == 200)
                    for _ in 0..<9 { _ = try await client.send(.GET, "/svc/d") }
                    #expect(upstreams[0].requestCount == 3)
                    #expect(
                        try await admin.send(.POST, "/admin/upstreams/svc/targets/7/drain", headers: auth).status == 404
                    )
                }
            }
        }
    }

    @Test("a target answering 500 is ejected, then readmitted after the ejection")
    func ejectAndReadmit() async throws {
        try await withThree { upstreams in
            let settings = """
                    health:
                      passive: {consecutive-failures: 3, ejection: 6s}
                """
            // The ejection is long enough that the 60 requests below finish inside it on a loaded machine.
            try await GatewayHarness.with(yaml: yaml(upstreams, settings: settings)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    upstreams[2].setMode(.failing)
                    var errors = 0
                    for _ in 0..<30 where try await client.send(.GET, "/svc/x").status == 500 { errors += 1 }
                    #expect(errors == 3)  // three in a row eject it; no retries configured, so clients saw them
                    let during = upstreams[2].requestCount
                    for _ in 0..<30 { #expect(try await client.send(.GET, "/svc/x").status == 200) }
                    #expect(upstreams[2].requestCount == during)

                    upstreams[2].setMode(.normal)
                    try await Task.sleep(for: .milliseconds(6100))
                    var sawThree = false
                    for _ in 0..<12 where try await client.send(.GET, "/svc/x").text == "three" { sawThree = true }
                    #expect(sawThree)
                }
            }
        }
    }

    @Test("active health checks take an unhealthy target out and bring it back")
    func activeChecks() async throws {
        try await withThree { upstreams in
            let settings = """
                    health:
                      active: {path: /health, interval: 50ms, timeout: 200ms, healthy: 2, unhealthy: 2}
                """
            try await GatewayHarness.with(yaml: yaml(upstreams, settings: settings)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    func healthy() async throws -> [Bool] {
                        try await adminTargets(client, adminPort: gateway.adminPort!).map {
                            $0["healthy"] as? Bool ?? false
                        }
                    }
                    upstreams[0].setMode(.failing)
                    var state: [Bool] = []
                    for _ in 0..<50 {
                        state = try await healthy()
                        if state == [false, true, true] { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(state == [false, true, true])
                    let before = upstreams[0].requestCount
                    for _ in 0..<20 { #expect(try await client.send(.GET, "/svc/y").text != "one") }
                    // Only the probes reached it.
                    #expect(upstreams[0].requestCount - before < 20)

                    upstreams[0].setMode(.normal)
                    for _ in 0..<50 {
                        state = try await healthy()
                        if state == [true, true, true] { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(state == [true, true, true])
                }
            }
        }
    }

    @Test("a hanging target is cut by the try timeout and the request is retried on another")
    func hangingTarget() async throws {
        try await withThree { upstreams in
            upstreams[0].setMode(.hanging)
            let settings = """
                    balance: round-robin
                    retries: {attempts: 2, on: [timeout, connect-failure]}
                    timeouts: {connect: 1s, try: 200ms, total: 2s}
                """
            try await GatewayHarness.with(yaml: yaml(upstreams, settings: settings)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    for _ in 0..<3 {
                        let started = ContinuousClock.now
                        let answer = try await client.send(.GET, "/svc/z")
                        #expect(answer.status == 200)
                        #expect(answer.text != "one")
                        #expect(ContinuousClock.now - started < .seconds(1))
                    }
                }
            }
        }
    }

    @Test("POST is retried only on a route marked retry-safe")
    func retrySafe() async throws {
        try await withThree { upstreams in
            upstreams[0].setMode(.failing)
            let yaml = yaml(upstreams, settings: "    retries: {attempts: 2, on: [500]}")
                .replacingOccurrences(
                    of: "  - {name: svc, base-path: /svc, upstream: svc}",
                    with: """
                          - name: svc
                            base-path: /svc
                            upstream: svc
                            routes:
                              - {path: /plain, methods: [POST]}
                              - {path: /safe, methods: [POST], retry-safe: true}
                        """)
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    var plain: [Int] = []
                    for _ in 0..<3 { plain.append(try await client.send(.POST, "/svc/plain").status) }
                    #expect(plain.sorted() == [200, 200, 500])  // round robin: the failing target answers once
                    for _ in 0..<3 { #expect(try await client.send(.POST, "/svc/safe").status == 200) }
                }
            }
        }
    }

    @Test("the breaker opens, stops calls, half-opens after open-for and closes on a good probe")
    func breaker() async throws {
        try await withThree { upstreams in
            let only = [upstreams[0]]
            let settings = """
                    circuit-breaker: {failure-rate: 50%, window: 4, min-calls: 4, open-for: 500ms, half-open-calls: 1}
                """
            try await GatewayHarness.with(yaml: yaml(only, settings: settings)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    upstreams[0].setMode(.failing)
                    for _ in 0..<4 { #expect(try await client.send(.GET, "/svc/b").status == 500) }
                    let calls = upstreams[0].requestCount
                    let refused = try await client.send(.GET, "/svc/b")
                    #expect(refused.status == 503)
                    #expect(refused.headers.first(name: "Retry-After") == "1")
                    #expect(refused.headers.first(name: "Content-Type") == "application/problem+json")
                    #expect(upstreams[0].requestCount == calls)

                    upstreams[0].setMode(.normal)
                    try await Task.sleep(for: .milliseconds(550))
                    #expect(try await client.send(.GET, "/svc/b").status == 200)  // the half-open probe
                    #expect(try await client.send(.GET, "/svc/b").status == 200)  // closed again
                    #expect(upstreams[0].requestCount == calls + 2)
                }
            }
        }
    }
}
