import Foundation
import PorticoGateway
import PorticoTesting
import Testing

@Suite("Rate limits and quotas end to end")
struct RateLimitTests {
    static func yaml(upstreamPort: Int, limits: String = "") -> String {
        """
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        portal: {path: /portal}
        \(upstreamYAML(port: upstreamPort))
        auth:
          keys: {type: api-key}
        plans:
          free: {rate: 3/m, burst: 3, quota: 1000/month}
        consumers:
          - {name: alpha, plan: free, keys: [alpha-key-0123456789abcdef]}
          - {name: beta, plan: free, keys: [beta-key-0123456789abcdef0]}
        \(limits)
        apis:
          - name: planned
            base-path: /planned
            upstream: backend
            auth: [keys]
          - name: by-ip
            base-path: /by-ip
            upstream: backend
            rate-limit: {rate: 4/m, burst: 4, by: ip}
          - name: weighted
            base-path: /weighted
            upstream: backend
            rate-limit: [{name: w, rate: 10/h, burst: 10, by: ip}]
            routes:
              - {path: /echo/heavy, cost: 4}
              - {path: /echo/light}
        """
    }

    static func run(
        limits: String = "", _ body: @Sendable (TestClient, GatewayHarness.Running) async throws -> Void
    ) async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: yaml(upstreamPort: upstreamPort, limits: limits)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in try await body(client, gateway) }
            }
        }
    }

    @Test("N+1 requests inside the window: N pass with RateLimit headers, one gets 429 with Retry-After")
    func planLimit() async throws {
        try await Self.run(limits: "limits: {legacy-headers: true}") { client, gateway in
            let alpha = [("X-API-Key", "alpha-key-0123456789abcdef")]
            // t and Retry-After count down in whole seconds from the first request; the margins are
            // the seconds that really passed, so a loaded machine that crosses several still passes.
            let start = ContinuousClock.now
            func waited() -> Int { Int((ContinuousClock.now - start).components.seconds) + 1 }
            for expected in [2, 1, 0] {
                let answer = try await client.send(.GET, "/planned/echo/x", headers: alpha)
                #expect(answer.status == 200)
                #expect(
                    answer.headers["RateLimit-Policy"].first
                        == #""free";q=3;w=60, "free-quota";q=1000;w=\#(Self.monthSeconds())"#)
                let fresh = 20 * (3 - expected)
                let allowed = (fresh - waited()...fresh).map { #""free";r=\#(expected);t=\#($0)"# }
                #expect(allowed.contains(answer.headers["RateLimit"].first ?? ""))
                #expect(answer.headers["X-RateLimit-Remaining"].first == String(expected))
            }
            let refused = try await client.send(.GET, "/planned/echo/x", headers: alpha)
            let passed = waited()
            #expect(refused.status == 429)
            #expect(refused.headers["Content-Type"].first == "application/problem+json")
            #expect((max(1, 20 - passed)...20).map(String.init).contains(refused.headers["Retry-After"].first ?? ""))
            #expect(
                (60 - passed...60).map { #""free";r=0;t=\#($0)"# }.contains(refused.headers["RateLimit"].first ?? ""))
            #expect(try refused.json()["request_id"] as? String == refused.headers["X-Request-Id"].first)

            // Another consumer on the same plan has its own budget.
            let beta = [("X-API-Key", "beta-key-0123456789abcdef0")]
            for _ in 0..<3 { #expect(try await client.send(.GET, "/planned/echo/x", headers: beta).status == 200) }
            #expect(try await client.send(.GET, "/planned/echo/x", headers: beta).status == 429)

            // The admin API shows a key's state.
            let state = try await adminClient(client, port: gateway.adminPort!).send(.GET, "/admin/limits?key=alpha")
                .json()
            let limits = try #require(state["limits"] as? [[String: Any]])
            #expect(limits.first { $0["policy"] as? String == "free" }?["remaining"] as? Int == 0)
            #expect(limits.first { $0["policy"] as? String == "free-quota" }?["remaining"] as? Int == 997)

            // The call log records the decision and which key was used (never the key).
            try await Task.sleep(for: .milliseconds(300))
            let calls = try await adminClient(client, port: gateway.adminPort!).send(
                .GET, "/admin/analytics/calls?since=1h&limit=100"
            ).json()
            let alphaCalls = ((calls["calls"] as? [[String: Any]]) ?? []).filter {
                $0["consumer"] as? String == "alpha"
            }
            let decisions = Set(alphaCalls.compactMap { $0["rate_limit"] as? String })
            #expect(
                decisions == ["allowed free r=2", "allowed free r=1", "allowed free r=0", "refused free"],
                "\(decisions)")
            #expect(alphaCalls.allSatisfy { ($0["key_prefix"] as? String)?.hasPrefix("sha256:") == true })
        }
    }

    @Test("a consumer sees their own limits through the portal API, with their own key")
    func portalLimits() async throws {
        try await Self.run { client, _ in
            let alpha = [("X-API-Key", "alpha-key-0123456789abcdef")]
            let fresh = try await client.send(.GET, "/portal/api/me/limits", headers: alpha).json()
            #expect(fresh["consumer"] as? String == "alpha" && fresh["plan"] as? String == "free")
            #expect(
                (fresh["limits"] as? [[String: Any]])?.first { $0["policy"] as? String == "free" }?["remaining"] as? Int
                    == 3)
            _ = try await client.send(.GET, "/planned/echo/x", headers: alpha)
            let used = try await client.send(.GET, "/portal/api/me/limits", headers: alpha).json()
            let limits = try #require(used["limits"] as? [[String: Any]])
            #expect(limits.first { $0["policy"] as? String == "free" }?["remaining"] as? Int == 2)
            #expect(limits.first { $0["policy"] as? String == "free-quota" }?["remaining"] as? Int == 999)
            // Looking does not charge: still 2.
            let again = try await client.send(.GET, "/portal/api/me/limits", headers: alpha).json()
            #expect(
                (again["limits"] as? [[String: Any]])?.first { $0["policy"] as? String == "free" }?["remaining"] as? Int
                    == 2)
            #expect(try await client.send(.GET, "/portal/api/me/limits").status == 401)
            #expect(try await client.send(.GET, "/portal/api/nothing", headers: alpha).status == 404)
        }
    }

    @Test("by ip: X-Forwarded-For is ignored unless the peer is a trusted proxy")
    func byIP() async throws {
        try await Self.run { client, _ in
            var statuses: [Int] = []
            for index in 0..<5 {
                statuses.append(
                    try await client.send(.GET, "/by-ip/echo/x", headers: [("X-Forwarded-For", "203.0.113.\(index)")])
                        .status)
            }
            #expect(statuses == [200, 200, 200, 200, 429])
        }
        try await Self.run(limits: "limits: {trusted-proxies: [127.0.0.1]}") { client, _ in
            for index in 0..<6 {
                let answer = try await client.send(
                    .GET, "/by-ip/echo/x", headers: [("X-Forwarded-For", "203.0.113.\(index)")])
                #expect(answer.status == 200)
            }
            var statuses: [Int] = []
            for _ in 0..<5 {
                statuses.append(
                    try await client.send(.GET, "/by-ip/echo/x", headers: [("X-Forwarded-For", "198.51.100.1")]).status)
            }
            #expect(statuses == [200, 200, 200, 200, 429])
        }
    }

    @Test("a route's weight is what one request costs")
    func weights() async throws {
        try await Self.run { client, _ in
            #expect(try await client.send(.GET, "/weighted/echo/heavy").status == 200)  // 4
            #expect(try await client.send(.GET, "/weighted/echo/heavy").status == 200)  // 8
            let third = try await client.send(.GET, "/weighted/echo/heavy")
            #expect(third.status == 429)
            // 2,880 s until the 8 units spent are back (6 minutes each): slow enough that no unit
            // comes back while a loaded machine runs the test, whatever its pauses.
            let field = try #require(third.headers["RateLimit"].first)
            #expect(field.hasPrefix(#""w";r=2;t="#))
            #expect((2820...2880).contains(Int(field.split(separator: "=").last ?? "") ?? 0))
            #expect(try await client.send(.GET, "/weighted/echo/light").status == 200)  // 9
            #expect(try await client.send(.GET, "/weighted/echo/light").status == 200)  // 10
            #expect(try await client.send(.GET, "/weighted/echo/light").status == 429)
        }
    }

    @Test("counters survive a reload that keeps the limit, and start over when it changes")
    func reloads() async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let path = gateway.folder + "/gateway.yaml"
                    for _ in 0..<4 { #expect(try await client.send(.GET, "/by-ip/echo/x").status == 200) }
                    #expect(try await client.send(.GET, "/by-ip/echo/x").status == 429)
                    // A reload that changes something else: the ip limit keeps its count.
                    let original = try String(contentsOfFile: path, encoding: .utf8)
                    try original.replacingOccurrences(of: "1000/month", with: "2000/month").write(
                        toFile: path, atomically: true, encoding: .utf8)
                    #expect(await gateway.app.runtime.reload(trigger: "test").tookEffect)
                    #expect(try await client.send(.GET, "/by-ip/echo/x").status == 429)
                    // A new rate is a new limit: a fresh budget.
                    try original.replacingOccurrences(of: "rate: 4/m, burst: 4", with: "rate: 5/m, burst: 5")
                        .write(toFile: path, atomically: true, encoding: .utf8)
                    #expect(await gateway.app.runtime.reload(trigger: "test").tookEffect)
                    #expect(try await client.send(.GET, "/by-ip/echo/x").status == 200)
                }
            }
        }
    }

    /// The length of the current UTC month in seconds, as the quota's `w` reports it.
    static func monthSeconds() -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return Int(calendar.dateInterval(of: .month, for: Date())!.duration)
    }
}

extension ReloadOutcome {
    /// The files on disk are what runs now (the config watcher may have applied them first).
    var tookEffect: Bool {
        switch self {
        case .applied, .unchanged: return true
        case .failed: return false
        }
    }
}
