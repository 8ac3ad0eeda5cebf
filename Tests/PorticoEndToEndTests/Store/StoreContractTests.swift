import Foundation
import Logging
import PorticoConfig
import PorticoTesting
import Testing

@testable import PorticoStore

/// The two stores behind `DataStore`, driven by the same tests through the protocol only.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind for the length of `body`; PostgreSQL's is a new
    /// database on a server started for it and stopped after.
    func with<T: Sendable>(_ body: @Sendable (any DataStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            return try await body(try SQLiteStore(path: folder + "/store.sqlite"))
        case .postgres:
            let server = try await PostgresServer()
            defer { server.close() }
            return try await PostgresStores.with(try await server.database(), body)
        }
    }
}

/// Runs `PostgresStore`s' clients for the length of `body`.
enum PostgresStores {
    static func with<T: Sendable>(
        _ urls: [PostgresURL], _ body: @Sendable ([PostgresStore]) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "postgres.test")
        logger.logLevel = .critical
        let stores = try urls.map { try PostgresStore(url: $0, logger: logger) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            for store in stores {
                group.addTask {
                    await store.client.run(); return nil
                }
            }
            defer { group.cancelAll() }
            // The first answer of a server started moments ago can take longer than an
            // operation's 10 s on a loaded machine (seen here with every suite starting at once):
            // wait for it once, so the tests time their own operations only.
            for store in stores { try await store.query("SELECT 1", timeout: .seconds(60)) }
            let result = try await body(stores)
            group.cancelAll()
            return result
        }
    }

    static func with<T: Sendable>(
        _ url: PostgresURL, _ body: @Sendable (any DataStore) async throws -> T
    ) async throws -> T {
        try await with([url]) { try await body($0[0]) }
    }
}

@Suite("Both stores keep the same contract", .serialized)
struct StoreContractTests {
    @Test(
        "consumers and keys: create, refuse duplicates, rotate, revoke, record use, and the generation that tells gateways",
        arguments: StoreBackend.allCases)
    func consumersAndKeys(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let start = try await store.authGeneration()
            try await store.createConsumer(
                StoredConsumer(name: "acme", groups: ["partners", "gold"], plan: "pro", scopes: ["read", "write"]))
            await #expect(throws: ConsumerStoreError.consumerExists("acme")) {
                try await store.createConsumer(StoredConsumer(name: "acme"))
            }
            let listed = try await store.consumers()
            #expect(
                listed.map(\.name) == ["acme"] && listed[0].groups == ["partners", "gold"]
                    && listed[0].scopes == ["read", "write"])
            #expect(try await store.consumer(named: "acme")?.plan == "pro")
            #expect(try await store.consumer(named: "nobody") == nil)
            try await store.setPasswordHash("hash", forConsumer: "acme")
            #expect(try await store.consumer(named: "acme")?.passwordHash == "hash")
            await #expect(throws: ConsumerStoreError.noSuchConsumer("ghost")) {
                try await store.setPasswordHash(nil, forConsumer: "ghost")
            }

            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let first = try await store.createKey(
                forConsumer: "acme", expires: now.addingTimeInterval(86_400), now: now)
            let second = try await store.createKey(forConsumer: "acme", expires: nil, now: now)
            #expect(first.record.digest == APIKey.digest(first.key) && first.record.id != second.record.id)
            #expect(try await store.keys(ofConsumer: "acme").map(\.id) == [second.record.id, first.record.id])
            let afterKeys = try await store.authGeneration()
            #expect(afterKeys > start)

            // Last use only moves forward, and does not bump the generation.
            try await store.recordKeyUse([first.record.id: now.addingTimeInterval(50)])
            try await store.recordKeyUse([first.record.id: now.addingTimeInterval(10)])
            #expect(
                try await store.keys(ofConsumer: "acme").first { $0.id == first.record.id }?.lastUsed
                    == now.addingTimeInterval(50))
            #expect(try await store.authGeneration() == afterKeys)

            // Rotation: the new key keeps the old one's lifetime; the old one expires after the grace.
            let rotated = try await store.rotateKey(
                id: first.record.id, ofConsumer: "acme", grace: 3600, now: now.addingTimeInterval(100))
            #expect(rotated.record.expires == now.addingTimeInterval(100 + 86_400))
            let old = try #require(try await store.keys(ofConsumer: "acme").first { $0.id == first.record.id })
            #expect(old.expires == now.addingTimeInterval(3700) && old.replacedBy == rotated.record.id)

            try await store.revokeKey(id: second.record.id, ofConsumer: "acme", now: now)
            await #expect(throws: ConsumerStoreError.noSuchKey(second.record.id)) {
                try await store.revokeKey(id: second.record.id, ofConsumer: "acme", now: now)
            }
            await #expect(throws: ConsumerStoreError.noSuchKey(second.record.id)) {
                _ = try await store.rotateKey(id: second.record.id, ofConsumer: "acme", grace: 0, now: now)
            }
            let credentials = try await store.credentials()
            #expect(credentials.generation == (try await store.authGeneration()))
            #expect(Set(credentials.keys.map(\.id)) == [first.record.id, rotated.record.id])
            #expect(credentials.consumers.map(\.name) == ["acme"])

            try await store.deleteConsumer(named: "acme")
            #expect(try await store.keys(ofConsumer: "acme").isEmpty)
            await #expect(throws: ConsumerStoreError.noSuchConsumer("acme")) {
                try await store.deleteConsumer(named: "acme")
            }
        }
    }

    @Test(
        "the portal: accounts, sessions that expire, apps through approval, their keys",
        arguments: StoreBackend.allCases)
    func portal(_ backend: StoreBackend) async throws {
        try await backend.with { store in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let account = try await store.createAccount(
                email: "dev@example.com", passwordHash: "pbkdf2", plan: "free", now: now)
            #expect(account.consumer == "portal:dev@example.com")
            #expect(try await store.consumer(named: account.consumer)?.groups == ["portal"])
            await #expect(throws: PortalStoreError.accountExists) {
                _ = try await store.createAccount(email: "dev@example.com", passwordHash: "x", plan: nil, now: now)
            }
            #expect(try await store.account(email: "dev@example.com")?.id == account.id)
            #expect(try await store.account(email: "other@example.com") == nil)

            let digest = Array(repeating: UInt8(7), count: 32)
            try await store.createSession(
                digest: digest, account: account.id, csrf: "token", expires: now.addingTimeInterval(60), now: now)
            #expect(try await store.session(digest: digest, now: now)?.account.email == "dev@example.com")
            #expect(try await store.session(digest: digest, now: now)?.csrf == "token")
            #expect(try await store.session(digest: digest, now: now.addingTimeInterval(61)) == nil)
            try await store.deleteSession(digest: digest)
            #expect(try await store.session(digest: digest, now: now) == nil)

            let pending = try await store.createApp(
                account: account.id, name: "mobile", description: "the app", active: false, now: now)
            #expect(pending.status == .pending && pending.owner == "dev@example.com" && pending.decided == nil)
            await #expect(throws: PortalStoreError.appExists) {
                _ = try await store.createApp(
                    account: account.id, name: "mobile", description: "", active: true, now: now)
            }
            await #expect(throws: PortalStoreError.appNotActive(.pending)) {
                _ = try await store.createAppKey(app: pending.id, account: account.id, now: now)
            }
            #expect(try await store.apps(account: nil, status: .pending).map(\.id) == [pending.id])
            let approved = try await store.decideApp(id: pending.id, approve: true, now: now)
            #expect(approved.status == .active && approved.decided == now)
            await #expect(throws: PortalStoreError.notPending(.active)) {
                _ = try await store.decideApp(id: pending.id, approve: true, now: now)
            }
            let web = try await store.createApp(
                account: account.id, name: "web", description: "", active: true, now: now)
            #expect(try await store.apps(account: account.id, status: nil).map(\.name) == ["mobile", "web"])
            #expect(try await store.apps(account: account.id + 1, status: nil).isEmpty)

            let key = try await store.createAppKey(app: approved.id, account: account.id, now: now)
            #expect(key.record.consumer == account.consumer)
            await #expect(throws: PortalStoreError.noSuchApp) {
                _ = try await store.appKeys(app: approved.id, account: account.id + 1)
            }
            let rotated = try await store.rotateAppKey(
                key.record.id, app: approved.id, account: account.id, grace: 60, now: now)
            #expect(
                try await store.appKeys(app: approved.id, account: account.id).map(\.id) == [
                    rotated.record.id, key.record.id,
                ])
            await #expect(throws: ConsumerStoreError.noSuchKey(key.record.id)) {
                try await store.revokeAppKey(key.record.id, app: web.id, account: account.id, now: now)
            }
            try await store.revokeAppKey(key.record.id, app: approved.id, account: account.id, now: now)
            // Revoking the app revokes every key it still has.
            let revoked = try await store.decideApp(id: approved.id, approve: false, now: now)
            #expect(revoked.status == .revoked)
            #expect(try await store.appKeys(app: approved.id, account: account.id).allSatisfy { $0.revoked != nil })
            #expect(try await store.app(id: web.id)?.status == .active)
            await #expect(throws: PortalStoreError.noSuchApp) {
                _ = try await store.decideApp(id: 9_999, approve: true, now: now)
            }
        }
    }

    @Test("the shared store writes a retried batch once: its id says it committed already")
    func retriedBatch() async throws {
        try await StoreBackend.postgres.with { store in
            var retried = CallRecordBatch(Array(Self.calls().prefix(10)))
            retried.id = UUID()
            try await store.insert(retried)
            try await store.insert(retried)
            #expect(try await store.callCount() == 10)
            let filter = AnalyticsFilter(from: Self.start, to: Self.start.addingTimeInterval(3600))
            #expect(try await store.timeSeries(filter, bucketSeconds: 3600).map(\.count).reduce(0, +) == 10)
            retried.id = UUID()
            try await store.insert(retried)
            #expect(try await store.callCount() == 20)
        }
    }

    @Test("store.postgres URLs: credentials, port, database, sslmode; every mistake named")
    func postgresURLs() throws {
        let full = try PostgresURL(parsing: "postgres://portico:p%40ss@db.internal:6543/gateway?sslmode=verify-full")
        #expect(full.user == "portico" && full.password == "p@ss" && full.host == "db.internal" && full.port == 6543)
        #expect(full.database == "gateway" && full.tls == .verifyFull)
        #expect(full.description == "postgres://portico:***@db.internal:6543/gateway?sslmode=verify-full")
        let short = try PostgresURL(parsing: "postgresql://app@[::1]/")
        #expect(short.host == "::1" && short.port == 5432 && short.database == "app" && short.tls == .prefer)
        for bad in [
            "mysql://u@h/db", "postgres://h/db", "postgres://u@h:99999999999999999999/db", "postgres://u@h:0/db",
            "postgres://u@h:x/db",
            "postgres://u@h/../x", "postgres://u@h/db?sslmode=maybe", "postgres://u@h/db?host=other",
            "postgres://u@/db",
            "postgres://u@h/" + String(repeating: "d", count: 64),
        ] {
            #expect(throws: PostgresURLError.self, "\(bad)") { try PostgresURL(parsing: bad) }
        }
        let problems = try configDiagnostics(
            "store: {postgres: 'postgres://u@h:123456/db', sqlite: x.sqlite}\nupstreams:\n  b: {targets: [{url: 'http://127.0.0.1:1'}]}\napis: [{name: a, upstream: b}]"
        )
        #expect(
            problems.map(\.message) == [
                "store.postgres: port '123456' (1 to 65535)", "store: give sqlite or postgres, not both",
            ])
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Calls over three hours with every field set and text that needs escaping.
    static func calls() -> [CallRecord] {
        (0..<3000).map { index in
            var call = CallRecord(
                time: start.addingTimeInterval(Double(index) * 3.5 + 0.25), requestID: "req-\(index)",
                method: index % 5 == 0 ? "POST" : "GET",
                path: "/shop/items/\(index)?q=a\tb\\c\nd\r'\"é€😀", api: "shop", version: index % 2 == 0 ? "v1" : nil,
                consumer: index % 3 == 0 ? nil : "consumer-\(index % 3)", route: ["list", "get", "put"][index % 3],
                status: index % 10 == 0 ? 503 : index % 7 == 0 ? 404 : 200, bytesIn: index, bytesOut: 1000 + index,
                totalMilliseconds: Double(index % 97) + 0.125,
                upstreamMilliseconds: index % 4 == 0 ? nil : Double(index % 50) + 0.5,
                target: "http://127.0.0.1:\(8000 + index % 3)", clientAddress: "10.0.0.\(index % 250)",
                error: index % 10 == 0 ? "upstream-unavailable" : nil, retries: index % 3)
            call.keyPrefix = index % 2 == 0 ? "pk_abc" : nil
            call.rateLimit = "allowed shop;r=\(index % 10)"
            call.cache = index % 6 == 0 ? "hit" : nil
            call.traceID = String(format: "%032x", index)
            call.mirror = index % 9 == 0 ? "shadow 200" : nil
            call.protocolVersion = index % 2 == 0 ? "1.1" : "2"
            call.validation = index % 11 == 0 ? "request /body/name: required" : nil
            if index % 50 == 0 {
                call.backends = [
                    BackendCallRecord(
                        name: "users", target: "http://u:1", status: 200, milliseconds: 3.5, error: nil, spanID: "s1",
                        cache: "miss"),
                    BackendCallRecord(
                        name: "orders[0]", target: nil, status: 504, milliseconds: 30, error: "gateway-timeout",
                        spanID: nil, cache: nil),
                ]
            }
            return call
        }
    }

    @Test(
        "calls: every field comes back as written; the rollups, the roll-up, the queries and retention agree",
        arguments: StoreBackend.allCases)
    func calls(_ backend: StoreBackend) async throws {
        let written = Self.calls()
        let summary = try await backend.with { store -> [String] in
            for chunk in stride(from: 0, to: written.count, by: 700) {
                try await store.insert(CallRecordBatch(Array(written[chunk..<min(chunk + 700, written.count)])))
            }
            #expect(try await store.callCount() == 3000)
            var search = CallSearch()
            search.limit = 5000
            let read = try await store.searchCalls(search)
            #expect(read.count == 3000)
            #expect(read.map(\.jsonLine) == written.reversed().map(\.jsonLine))
            #expect(read.first { $0.requestID == "req-50" }?.backends == written[50].backends)
            search.statusClass = 5
            search.route = "list"
            #expect(
                try await store.searchCalls(search).count
                    == written.filter { $0.status / 100 == 5 && $0.route == "list" }.count)

            let filter = AnalyticsFilter(from: Self.start, to: Self.start.addingTimeInterval(4 * 3600))
            var lines: [String] = []
            func record(_ label: String) async throws {
                for size in [60, 300, 3600] {
                    let series = try await store.timeSeries(filter, bucketSeconds: size)
                    #expect(series.map(\.count).reduce(0, +) == 3000, "\(label) \(size)")
                    lines += series.map {
                        "\(label) \(size) \($0.key) \($0.count) \($0.errors) \($0.bytesOut) \($0.p50 ?? -1) \($0.p99 ?? -1) \($0.upstreamP95 ?? -1)"
                    }
                }
                for dimension in UsageDimension.allCases {
                    lines += try await store.top(dimension, filter, limit: 10).map {
                        "\(label) \(dimension) \($0.key) \($0.count) \($0.errors) \($0.p95 ?? -1)"
                    }
                }
                var consumer = filter
                consumer.consumer = "consumer-1"
                let one = try await store.timeSeries(consumer, bucketSeconds: 3600)
                #expect(one.map(\.count).reduce(0, +) == written.filter { $0.consumer == "consumer-1" }.count)
            }
            try await record("before")
            #expect(try await store.rollUp(before: Self.start.addingTimeInterval(5 * 3600)) > 0)
            #expect(try await store.rollUp(before: Self.start.addingTimeInterval(5 * 3600)) == 0)
            try await record("after")
            // A call logged after its hour was rolled up goes to the hours and days at once.
            var late = written[1]
            late.requestID = "late"
            try await store.insert(CallRecordBatch([late]))
            #expect(try await store.timeSeries(filter, bucketSeconds: 3600).map(\.count).reduce(0, +) == 3001)

            var retention = StoreConfig.Retention()
            retention.calls = .seconds(3600)
            retention.minutes = nil
            retention.hours = nil
            let removed = try await store.enforce(retention, now: Self.start.addingTimeInterval(3 * 3600))
            let kept = written.filter { $0.time.timeIntervalSince1970 >= Self.start.timeIntervalSince1970 + 2 * 3600 }
                .count
            #expect(removed == 3001 - kept)
            #expect(try await store.callCount() == kept)
            try await store.probeWrite()
            return lines
        }
        // Both stores must answer the same, to the percentile: kept for the other backend's run.
        let file =
            NSTemporaryDirectory()
            + "portico-store-contract-\(ProcessInfo.processInfo.processIdentifier)-\(backend.rawValue).txt"
        try summary.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let other =
            NSTemporaryDirectory()
            + "portico-store-contract-\(ProcessInfo.processInfo.processIdentifier)-\(backend == .sqlite ? "postgres" : "sqlite").txt"
        if let theirs = try? String(contentsOfFile: other, encoding: .utf8) {
            #expect(
                summary == theirs.split(separator: "\n").map(String.init), "SQLite and PostgreSQL answered differently")
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: other)
        }
    }
}
