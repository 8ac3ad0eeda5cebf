import Foundation
import Logging
import NIOCore
import PorticoApp
import PorticoConfig
import PorticoTesting
import Testing

@Suite("Metrics, tracing, health and logs")
struct ObservabilityTests {
    /// `name{labels} value` lines of a Prometheus exposition, by name and label set.
    static func samples(_ text: String) -> [(name: String, labels: [String: String], value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return (String(series), [:], value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",")
            {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return (String(series[..<brace]), labels, value)
        }
    }

    static func value(
        _ samples: [(name: String, labels: [String: String], value: Double)], _ name: String, _ labels: [String: String]
    ) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?
            .value
    }

    @Test(
        "Metrics after a known sequence of requests: counts, latency, cache, refusals, auth failures, upstreams, reloads"
    )
    func metrics() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
                \(upstreamYAML(name: "origin", port: upstreamPort))
                auth:
                  keys: {type: api-key}
                consumers:
                  - {name: app, keys: [app-key-0123456789abcdef0]}
                apis:
                  - name: shop
                    base-path: /shop
                    upstream: origin
                    auth: [keys]
                    rate-limit: {name: tight, rate: 5/h, burst: 5, by: consumer}
                    routes:
                      - {path: /echo/items, name: items, cache: {default-ttl: 60s, key: [consumer]}}
                      - {path: /echo/orders, name: orders, methods: [POST]}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let key = [("X-API-Key", "app-key-0123456789abcdef0")]
                    for _ in 0..<3 {
                        #expect(try await client.send(.GET, "/shop/echo/items", headers: key).status == 200)
                    }
                    #expect(try await client.send(.POST, "/shop/echo/orders", headers: key).status == 200)
                    #expect(try await client.send(.GET, "/shop/echo/items").status == 401)
                    #expect(
                        try await client.send(
                            .GET, "/shop/echo/items", headers: [("X-API-Key", "wrong-key-0123456789abcdef")]
                        ).status == 401)
                    #expect(try await client.send(.GET, "/shop/echo/items", headers: key).status == 200)
                    #expect(try await client.send(.GET, "/shop/echo/items", headers: key).status == 429)
                    #expect(try await client.send(.GET, "/nowhere").status == 404)
                    let admin = adminClient(client, port: gateway.adminPort!)
                    _ = try await admin.send(.POST, "/admin/reload")
                    let scrape = try await admin.send(.GET, "/metrics")
                    #expect(scrape.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
                    let samples = Self.samples(scrape.text)
                    let items = ["api": "shop", "route": "items"]
                    #expect(
                        Self.value(
                            samples, "portico_requests_total",
                            items.merging(["method": "GET", "status_class": "2xx"]) { $1 }) == 4)
                    #expect(
                        Self.value(
                            samples, "portico_requests_total",
                            items.merging(["method": "GET", "status_class": "4xx"]) { $1 }) == 3)
                    #expect(
                        Self.value(
                            samples, "portico_requests_total",
                            ["api": "shop", "route": "orders", "method": "POST", "status_class": "2xx"]) == 1)
                    #expect(
                        Self.value(
                            samples, "portico_requests_total", ["api": "none", "route": "none", "status_class": "4xx"])
                            == 1)
                    #expect(Self.value(samples, "portico_request_duration_seconds_count", items) == 7)
                    // The upstream was asked once for items (then two hits) and once for orders.
                    #expect(Self.value(samples, "portico_upstream_duration_seconds_count", items) == 1)
                    #expect(
                        Self.value(samples, "portico_cache_requests_total", items.merging(["outcome": "hit"]) { $1 })
                            == 3)
                    #expect(
                        Self.value(samples, "portico_cache_requests_total", items.merging(["outcome": "miss"]) { $1 })
                            == 1)
                    #expect(
                        Self.value(
                            samples, "portico_rate_limit_refusals_total", items.merging(["policy": "tight"]) { $1 })
                            == 1)
                    #expect(
                        Self.value(samples, "portico_auth_failures_total", ["api": "shop", "reason": "missing"]) == 1)
                    #expect(
                        Self.value(samples, "portico_auth_failures_total", ["api": "shop", "reason": "invalid"]) == 1)
                    #expect(Self.value(samples, "portico_upstream_target_healthy", ["upstream": "origin"]) == 1)
                    #expect(Self.value(samples, "portico_upstream_breaker_state", ["upstream": "origin"]) == 0)
                    // Unchanged file: no reload.
                    #expect(Self.value(samples, "portico_reloads_total", ["result": "success"]) == 0)
                    #expect(Self.value(samples, "portico_call_log_dropped_total", [:]) == 0)
                    #expect(Self.value(samples, "portico_call_log_queue_depth", [:]) != nil)
                    // Every metric the Grafana dashboard queries exists.
                    let dashboard = try String(
                        contentsOfFile: packageRoot + "/config/grafana/portico.json", encoding: .utf8)
                    let names = Set(dashboard.matches(of: /portico_[a-z_]+/).map { String($0.output) })
                    #expect(names.count > 10)
                    for name in names {
                        #expect(
                            scrape.text.contains("\n" + name), "the dashboard queries \(name), which /metrics lacks")
                    }
                    // No label value comes from a raw path.
                    #expect(!scrape.text.contains("/nowhere") && !scrape.text.contains("/shop/echo"))
                }
            }
        }
    }

    @Test("traceparent: continued upstream with the gateway's span, started when missing or invalid, in the call log")
    func traceparent() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
                server: {access-log: false, server-timing: true}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - {name: echo, base-path: /api, upstream: backend}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                    let answer = try await client.send(
                        .GET, "/api/echo/t",
                        headers: [("traceparent", incoming), ("tracestate", "vendor=x"), ("X-Request-Id", "trace-1")])
                    let seen = try echoedHeaders(answer)
                    let forwarded = seen["traceparent"]?.first ?? ""
                    let parts = forwarded.split(separator: "-")
                    #expect(
                        parts.count == 4 && parts[0] == "00" && parts[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
                            && parts[3] == "01")
                    #expect(parts.count == 4 && parts[2].count == 16 && parts[2] != "00f067aa0ba902b7")
                    #expect(seen["tracestate"] == ["vendor=x"])
                    let timing = answer.headers["Server-Timing"].first ?? ""
                    #expect(timing.hasPrefix("total;dur=") && timing.contains(", upstream;dur="))

                    for bad in [
                        nil, "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "garbage",
                        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                    ] {
                        let fresh = try echoedHeaders(
                            try await client.send(.GET, "/api/echo/t", headers: bad.map { [("traceparent", $0)] } ?? [])
                        )
                        let trace = fresh["traceparent"]?.first?.split(separator: "-") ?? []
                        #expect(
                            trace.count == 4 && trace[1].count == 32 && trace[1] != "00000000000000000000000000000000",
                            "\(String(describing: bad))")
                        #expect(
                            trace.count == 4 && trace[1] != "4bf92f3577b34da6a3ce929d0e0e4736"
                                && trace[1].lowercased() == trace[1])
                    }
                    await gateway.app.callLog.flush()
                    let calls = try await adminClient(client, port: gateway.adminPort!).send(
                        .GET, "/admin/analytics/calls?request_id=trace-1"
                    ).json()
                    let call = (calls["calls"] as? [[String: Any]])?.first
                    #expect(call?["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
                }
            }
        }
    }

    @Test(
        "/healthz answers while the process lives; /readyz only once the runtime runs with a config and the store takes writes"
    )
    func health() async throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "listen: 127.0.0.1:0\nstore: {sqlite: portico.sqlite}\nserver: {access-log: false}\napis: []\n"
            .write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader().load(file: folder + "/gateway.yaml")
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try PorticoApp(config: config, logger: logger)
        // Before: the listener is up but the runtime has not started.
        let port = BoundPort()
        // The data-plane listener alone (the last service), without the runtime that makes it ready.
        let listenerOnly = app.services(onGatewayListening: { port.set($0) }).last!
        try await ServiceRunner.with([listenerOnly], logger: logger) {
            try await withClient(baseURL: "http://127.0.0.1:\(try await port.wait())") { client in
                #expect(try await client.send(.GET, "/healthz").status == 200)
                let before = try await client.send(.GET, "/readyz")
                #expect(before.status == 503)
                #expect(try before.json()["runtime"] as? String == "starting")
            }
        }
        // After: the whole gateway.
        try await GatewayHarness.with(yaml: "apis: []\n") { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                var ready = try await client.send(.GET, "/readyz")
                for _ in 0..<50 where ready.status != 200 {
                    try await Task.sleep(for: .milliseconds(20))
                    ready = try await client.send(.GET, "/readyz")
                }
                #expect(ready.status == 200)
                let report = try ready.json()
                #expect(
                    report["ready"] as? Bool == true && report["store"] as? String == "writable"
                        && report["runtime"] as? String == "running")
                #expect(
                    (report["config"] as? [String: Any])?["hash"] as? String
                        == gateway.app.runtime.snapshot.config.contentHash)
            }
        }
        // Turned off, the paths are ordinary (and unrouted) paths.
        try await GatewayHarness.with(yaml: "server: {access-log: false, health-endpoints: false}\napis: []\n") {
            gateway in
            try await withClient(baseURL: gateway.baseURL) { (client: TestClient) async throws in
                #expect(try await client.send(.GET, "/healthz").status == 404)
                #expect(try await client.send(.GET, "/readyz").status == 404)
            }
        }
    }

    @Test("No key, token, password or cookie reaches the logs, at debug level, whatever requests carry")
    func noSecretsInLogs() async throws {
        try await withUpstream { upstreamPort in
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let apiKey = "live-key-7f3a9c2e5b1d4f6a8c0e"
            let password = "correct horse battery staple"
            let adminToken = "admin-token-5e8d2c7b9a1f3e6d0a4b"
            let hash = try PasswordHash(password: password, rounds: 210_000).description
            let yaml = """
                listen: 127.0.0.1:0
                admin: {listen: 127.0.0.1:0, token: \(adminToken)}
                store: {sqlite: calls.sqlite}
                server: {log-level: debug}
                \(upstreamYAML(port: upstreamPort))
                auth:
                  keys: {type: api-key, query: api_key}
                  users: {type: basic}
                  tokens: {type: jwt, secret: \(TestKeys.secret)}
                consumers:
                  - {name: app, keys: [\(apiKey)], password-hash: "\(hash)"}
                  - {name: partner-1}
                apis:
                  - {name: api, base-path: /api, upstream: backend, auth: [keys, users, tokens]}
                """
            try yaml.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
            let gateway = try PorticoProcess(["serve", "--config", folder + "/gateway.yaml"])
            let port = try await gateway.port(of: "gateway")
            let adminPort = try await gateway.port(of: "admin")
            let token = try await TestKeys.shared.sign("HS256")
            let basic = "Basic " + Data("app:\(password)".utf8).base64EncodedString()
            let cookie = "session=cookie-secret-0a9b8c7d6e5f"
            try await withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                for _ in 0..<100 where (try? await client.send(.GET, "/healthz"))?.status != 200 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let requests: [(String, [(String, String)])] = [
                    ("/api/echo/a", [("X-API-Key", apiKey), ("Cookie", cookie)]),
                    ("/api/echo/b?api_key=\(apiKey)&x=1", []),
                    ("/api/echo/c", [("Authorization", basic)]),
                    ("/api/echo/d", [("Authorization", "Bearer " + token), ("Cookie", cookie)]),
                    ("/api/echo/e", [("X-API-Key", apiKey + "x")]),
                    ("/api/echo/f", [("Authorization", "Bearer " + token + "x")]),
                    (
                        "/api/echo/g",
                        [("Authorization", "Basic " + Data("app:\(password)!".utf8).base64EncodedString())]
                    ),
                ]
                var statuses: [Int] = []
                for (path, headers) in requests {
                    statuses.append(try await client.send(.GET, path, headers: headers).status)
                }
                #expect(statuses == [200, 200, 200, 200, 401, 401, 401])
                let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(adminPort)")
                #expect(
                    try await admin.send(.GET, "/admin/status", headers: [("Authorization", "Bearer " + adminToken)])
                        .status == 200)
                #expect(
                    try await admin.send(
                        .GET, "/admin/status", headers: [("Authorization", "Bearer " + adminToken + "0")]
                    ).status == 401)
                let created = try await admin.send(
                    .POST, "/admin/consumers/app/keys",
                    headers: [("Authorization", "Bearer " + adminToken), ("Content-Type", "application/json")],
                    body: .bytes(ByteBuffer(string: "{}")))
                let runtimeKey = try created.json()["key"] as? String ?? "missing"
                #expect(try await client.send(.GET, "/api/echo/h", headers: [("X-API-Key", runtimeKey)]).status == 200)
                kill(gateway.process.processIdentifier, SIGTERM)
                let result = gateway.finish()
                let everything = result.output + result.errors
                #expect(everything.contains("\"path\":\"/api/echo/h\""), "the access log was written")
                #expect(everything.contains("\"level\":\"debug\""), "debug logs were written")
                for secret in [
                    apiKey, password, token, String(token.split(separator: ".").last!), cookie, "cookie-secret",
                    adminToken, runtimeKey,
                    String(basic.dropFirst(6)), String(runtimeKey.dropFirst(12)),
                ] {
                    #expect(!everything.contains(secret), "\(secret.prefix(12))… appears in the logs")
                }
            }
        }
    }
}
