import AsyncHTTPClient
import Foundation
import GRDB
import PorticoConfig
import PorticoStore
import PorticoTesting
import Synchronization
import Testing

@Suite("Versions, splits, deprecation and sunset", .serialized)
struct VersioningTests {
    /// Upstreams named v1, v2 and canary for the length of `body`.
    func withUpstreams<T: Sendable>(_ body: ([String: ControllableUpstream]) async throws -> T) async throws -> T {
        var upstreams: [String: ControllableUpstream] = [:]
        for name in ["v1", "v2", "canary"] { upstreams[name] = try await ControllableUpstream(name: name) }
        do {
            let result = try await body(upstreams)
            for upstream in upstreams.values { await upstream.stop() }
            return result
        } catch {
            for upstream in upstreams.values { await upstream.stop() }
            throw error
        }
    }

    func yaml(
        _ upstreams: [String: ControllableUpstream], sticky: String? = nil, serveAfterSunset: Bool = false
    ) -> String {
        """
        server: {access-log: false, watch-config: false}
        auth:
          jwt: {type: jwt, secret: \(TestKeys.secret)}
          keys: {type: api-key}
        upstreams:
        \(upstreams.keys.sorted().map { "  \($0): {targets: [{url: \"http://127.0.0.1:\(upstreams[$0]!.port)\"}]}" }.joined(separator: "\n"))
        apis:
          - name: users
            version: v1
            base-path: /users
            versioning: {by: header, name: Api-Version}
            upstream: v1
            deprecated: 2026-12-01
            sunset: 2027-06-30
            successor: v2
            deprecation-docs: https://docs.example.com/users-v1
            serve-after-sunset: \(serveAfterSunset)
          - name: users
            version: v2
            base-path: /users
            versioning: {by: header, name: Api-Version}
            default: true
            split:
              - {upstream: v2, weight: 95}
              - {upstream: canary, weight: 5}
        \(sticky.map { "    sticky: \($0)" } ?? "")
        \(sticky == "consumer" ? "    auth: [jwt]" : "")
            force-header: X-Canary
          - {name: orders, version: v1, base-path: /orders, versioning: {by: query}, upstream: v1}
          - {name: orders, version: v2, base-path: /orders, versioning: {by: query}, upstream: v2, default: true}
          - {name: media, version: v1, base-path: /media, versioning: {by: media-type}, upstream: v1, default: true}
          - {name: media, version: v2, base-path: /media, versioning: {by: media-type}, upstream: v2}
          - {name: paths, version: v1, base-path: /v1/things, upstream: v1}
          - {name: paths, version: v2, base-path: /v2/things, upstream: v2}
          - name: routed
            base-path: /routed
            upstream: v1
            routes:
              - {path: /plain}
              - path: /canaried
                split: [{upstream: v2, weight: 1}, {upstream: canary, weight: 1}]
        """
    }

    @Test("each way of naming a version, the default version, and unknown versions")
    func namingVersions() async throws {
        try await withUpstreams { upstreams in
            try await GatewayHarness.with(yaml: yaml(upstreams)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    #expect(try await client.send(.GET, "/users/1", headers: [("Api-Version", "v1")]).text == "v1")
                    #expect(
                        try await client.send(.GET, "/users/1", headers: [("Api-Version", "v2"), ("X-Canary", "v2")])
                            .text == "v2")
                    // The default.
                    #expect(try await client.send(.GET, "/users/1", headers: [("X-Canary", "v2")]).text == "v2")
                    #expect(try await client.send(.GET, "/orders/1?version=v1").text == "v1")
                    #expect(try await client.send(.GET, "/orders/1").text == "v2")
                    let media = try await client.send(
                        .GET, "/media/1", headers: [("Accept", "text/html, application/vnd.media.v2+json; q=0.9")])
                    #expect(media.text == "v2")
                    #expect(
                        try await client.send(.GET, "/media/1", headers: [("Accept", "application/json")]).text == "v1")
                    #expect(try await client.send(.GET, "/v1/things/a").text == "v1")
                    #expect(try await client.send(.GET, "/v2/things/a").text == "v2")

                    let unknown = try await client.send(.GET, "/users/1", headers: [("Api-Version", "v9")])
                    #expect(unknown.status == 404)
                    #expect(unknown.headers.first(name: "Content-Type") == "application/problem+json")
                    let problem = try unknown.json()
                    #expect(problem["versions"] as? [String] == ["v1", "v2"])
                    #expect(problem["request_id"] as? String == unknown.headers.first(name: "X-Request-Id"))
                }
                // The call log records the version served.
                await gateway.app.callLog.flush()
                let versions = try await (gateway.app.store as! SQLiteStore).database.read { db in
                    try String?.fetchAll(db, sql: "SELECT version FROM calls ORDER BY id LIMIT 3")
                }
                #expect(versions == ["v1", "v2", "v2"])
            }
        }
    }

    @Test("a weighted split follows its weights over 10,000 requests, and a force header picks a side")
    func weightedSplit() async throws {
        try await withUpstreams { upstreams in
            try await GatewayHarness.with(yaml: yaml(upstreams)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let tally = Tally()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<8 {
                            group.addTask {
                                for _ in 0..<1250 {
                                    let side = try await client.send(.GET, "/users/1").text
                                    tally.served.withLock { $0[side, default: 0] += 1 }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    let seen = tally.served.withLock { $0 }
                    #expect(seen.values.reduce(0, +) == 10_000)
                    #expect(abs(Double(seen["canary"] ?? 0) / 10_000 - 0.05) <= 0.03, "\(seen)")
                    #expect(abs(Double(seen["v2"] ?? 0) / 10_000 - 0.95) <= 0.03, "\(seen)")

                    for _ in 0..<5 {
                        #expect(
                            try await client.send(.GET, "/users/1", headers: [("X-Canary", "canary")]).text == "canary")
                    }
                    // A split on one route only.
                    #expect(try await client.send(.GET, "/routed/plain").text == "v1")
                    var sides: [String] = []
                    for _ in 0..<4 { sides.append(try await client.send(.GET, "/routed/canaried").text) }
                    #expect(sides.sorted() == ["canary", "canary", "v2", "v2"])
                }
            }
        }
    }

    @Test("a sticky split keeps each caller on one side")
    func stickySplit() async throws {
        try await withUpstreams { upstreams in
            try await GatewayHarness.with(yaml: yaml(upstreams, sticky: "header:X-User")) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    var canaryUsers = 0
                    for user in 0..<400 {
                        var sides: Set<String> = []
                        for _ in 0..<3 {
                            sides.insert(
                                try await client.send(.GET, "/users/1", headers: [("X-User", "user-\(user)")]).text)
                        }
                        #expect(sides.count == 1, "user-\(user) saw \(sides)")
                        if sides == ["canary"] { canaryUsers += 1 }
                    }
                    #expect(abs(Double(canaryUsers) / 400 - 0.05) <= 0.03, "\(canaryUsers) of 400 users on the canary")
                }
            }
        }
    }

    @Test("a split sticky to the consumer keeps each authenticated consumer on one side")
    func stickyConsumer() async throws {
        try await withUpstreams { upstreams in
            try await GatewayHarness.with(yaml: yaml(upstreams, sticky: "consumer")) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    var canaryUsers = 0
                    for user in 0..<200 {
                        var claims = TestClaims()
                        claims.sub = "user-\(user)"
                        claims.iss = nil
                        claims.aud = nil
                        let token = try await TestKeys.shared.sign("HS256", claims)
                        var sides: Set<String> = []
                        for _ in 0..<3 {
                            sides.insert(
                                try await client.send(.GET, "/users/1", headers: [("Authorization", "Bearer " + token)])
                                    .text)
                        }
                        #expect(sides.count == 1, "user-\(user) saw \(sides)")
                        if sides == ["canary"] { canaryUsers += 1 }
                    }
                    #expect(abs(Double(canaryUsers) / 200 - 0.05) <= 0.04, "\(canaryUsers) of 200 users on the canary")
                    #expect(try await client.send(.GET, "/users/1").status == 401)
                }
            }
        }
    }

    @Test("deprecated versions and operations carry Deprecation, Sunset and Link")
    func deprecationHeaders() async throws {
        try await withUpstreams { upstreams in
            let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15, after deprecation, before sunset
            try await GatewayHarness.with(yaml: yaml(upstreams), wallClock: { now }) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let old = try await client.send(.GET, "/users/1", headers: [("Api-Version", "v1")])
                    #expect(old.status == 200)
                    #expect(old.headers.first(name: "Deprecation") == "@1796083200")
                    #expect(old.headers.first(name: "Sunset") == "Wed, 30 Jun 2027 00:00:00 GMT")
                    #expect(
                        old.headers["Link"] == [
                            "</users>; rel=\"successor-version\"",
                            "<https://docs.example.com/users-v1>; rel=\"deprecation\"; type=\"text/html\"",
                        ])
                    let current = try await client.send(.GET, "/users/1", headers: [("Api-Version", "v2")])
                    #expect(current.headers["Deprecation"].isEmpty && current.headers["Sunset"].isEmpty)
                }
            }
            // An operation marked deprecated in its OpenAPI document.
            let spec = try String(contentsOfFile: packageRoot + "/config/specs/petstore.yaml", encoding: .utf8)
            let petstore = """
                auth: {keys: {type: api-key}}
                apis:
                  - {name: petstore, base-path: /petstore, openapi: petstore.yaml, upstream: mock}
                """
            try await GatewayHarness.with(yaml: petstore, files: ["petstore.yaml": spec], wallClock: { now }) {
                gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let deprecated = try await client.send(.GET, "/petstore/pets/findByTags")
                    // Deprecated: true → when loaded.
                    #expect(deprecated.headers.first(name: "Deprecation") == "@1800000000")
                    #expect(try await client.send(.GET, "/petstore/pets").headers["Deprecation"].isEmpty)
                }
            }
        }
    }

    @Test("after the sunset a version answers 410, unless the config keeps serving it")
    func sunset() async throws {
        try await withUpstreams { upstreams in
            let after = Date(timeIntervalSince1970: 1_830_000_000)  // 2027-12-28
            try await GatewayHarness.with(yaml: yaml(upstreams), wallClock: { after }) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let gone = try await client.send(.GET, "/users/1", headers: [("Api-Version", "v1")])
                    #expect(gone.status == 410)
                    #expect(gone.headers.first(name: "Content-Type") == "application/problem+json")
                    #expect(gone.headers.first(name: "Sunset") == "Wed, 30 Jun 2027 00:00:00 GMT")
                    #expect(gone.headers.first(name: "Link") == "</users>; rel=\"successor-version\"")
                    #expect(upstreams["v1"]!.requestCount == 0)
                    #expect(try await client.send(.GET, "/users/1", headers: [("Api-Version", "v2")]).status == 200)
                }
            }
            try await GatewayHarness.with(yaml: yaml(upstreams, serveAfterSunset: true), wallClock: { after }) {
                gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let kept = try await client.send(.GET, "/users/1", headers: [("Api-Version", "v1")])
                    #expect(kept.status == 200)
                    #expect(kept.headers.first(name: "Sunset") == "Wed, 30 Jun 2027 00:00:00 GMT")
                }
            }
        }
    }
}
