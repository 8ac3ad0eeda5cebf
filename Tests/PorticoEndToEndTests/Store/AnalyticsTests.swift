import Foundation
import GRDB
import PorticoConfig
import PorticoTesting
import Testing

@testable import PorticoStore

@Suite("Call log, rollups and analytics")
struct AnalyticsTests {
    /// A store in a fresh temporary folder for the length of `body`.
    func withStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try await body(try SQLiteStore(path: folder + "/calls.sqlite"))
    }

    func call(
        _ time: Date, route: String, status: Int, total: Double, upstream: Double? = nil, bytesOut: Int = 100
    ) -> CallRecord {
        CallRecord(
            time: time, requestID: UUID().uuidString, method: "GET", path: "/x", api: "shop", version: "v1",
            route: route,
            status: status, bytesIn: 10, bytesOut: bytesOut, totalMilliseconds: total, upstreamMilliseconds: upstream,
            target: "http://127.0.0.1:1", clientAddress: "127.0.0.1", error: status >= 500 ? "bad-gateway" : nil)
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("rollups agree with the raw rows, at every level")
    func rollupsAgree() async throws {
        try await withStore { store in
            var calls: [CallRecord] = []
            for index in 0..<3000 {
                let route = ["list", "get", "put"][index % 3]
                let status = index % 10 == 0 ? 503 : index % 7 == 0 ? 404 : 200
                var record = call(
                    start.addingTimeInterval(Double(index)), route: route, status: status, total: Double(index % 50) + 1
                )
                record.consumer = index % 2 == 0 ? "even" : "odd"
                calls.append(record)
            }
            for batch in stride(from: 0, to: calls.count, by: 1000) {
                try await store.insert(Array(calls[batch..<batch + 1000]))
            }
            let filter = AnalyticsFilter(from: start, to: start.addingTimeInterval(3000))
            // Before the roll-up, hour-level queries read the minutes; after it, the hours.
            #expect(try await store.timeSeries(filter, bucketSeconds: 3600).map(\.count).reduce(0, +) == 3000)
            #expect(try await store.rollUp(before: start.addingTimeInterval(3 * 86_400)) > 0)
            #expect(try await store.timeSeries(filter, bucketSeconds: 3600).map(\.count).reduce(0, +) == 3000)
            // A call logged after its minute was rolled up goes into the hours and days directly.
            var late = call(start.addingTimeInterval(10), route: "get", status: 200, total: 5)
            late.consumer = "odd"
            try await store.insert([late])
            #expect(try await store.timeSeries(filter, bucketSeconds: 3600).map(\.count).reduce(0, +) == 3001)
            let raw = try await store.database.read { db in
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT route, status / 100 AS class, COUNT(*) AS n, SUM(bytes_out) AS bytes FROM calls GROUP BY route, class"
                )
            }
            for level in ["minute", "hour", "day", "all-minute", "all-hour", "all-day"] {
                let rolled = try await store.database.read { db in
                    try Row.fetchAll(
                        db,
                        sql:
                            "SELECT route, status_class AS class, SUM(count) AS n, SUM(bytes_out) AS bytes FROM rollups WHERE level = ? GROUP BY route, class",
                        arguments: [level])
                }
                #expect(
                    Set(
                        rolled.map {
                            "\($0["route"] as String) \($0["class"] as Int) \($0["n"] as Int) \($0["bytes"] as Int)"
                        })
                        == Set(
                            raw.map {
                                "\($0["route"] as String) \($0["class"] as Int) \($0["n"] as Int) \($0["bytes"] as Int)"
                            }), "\(level)")
            }
            let routes = try await store.top(.route, filter, limit: 10)
            #expect(routes.map(\.count).reduce(0, +) == 3001)
            #expect(Set(routes.map(\.key)) == ["list", "get", "put"])
            let errors = try await store.top(.status, filter, limit: 10).first { $0.key == "5xx" }
            #expect(errors?.count == 300 && errors?.errors == 300)
            let series = try await store.timeSeries(filter, bucketSeconds: 600)
            #expect(series.map(\.count).reduce(0, +) == 3001)
            #expect(series.count == 5)  // 3000 s from a start aligned to 10 minutes
            // By consumer (the per-consumer rollups) and for one consumer.
            let consumers = try await store.top(.consumer, filter, limit: 10)
            #expect(
                Dictionary(uniqueKeysWithValues: consumers.map { ($0.key, $0.count) }) == ["even": 1500, "odd": 1501])
            var evenOnly = filter
            evenOnly.consumer = "even"
            #expect(try await store.timeSeries(evenOnly, bucketSeconds: 600).map(\.count).reduce(0, +) == 1500)
            #expect(try await store.top(.route, evenOnly, limit: 10).map(\.count).reduce(0, +) == 1500)
        }
    }

    @Test("percentiles from the histograms are within a bucket of the exact values")
    func percentiles() async throws {
        try await withStore { store in
            var random = SplitMix64(state: 3)
            // 1 ms to 3 s, log-spread.
            let latencies = (0..<5000).map { _ in exp(Double.random(in: 0...8, using: &random)) }
            try await store.insert(latencies.map { call(start, route: "r", status: 200, total: $0, upstream: $0 / 2) })
            let summary = try #require(
                try await store.top(.route, AnalyticsFilter(from: start, to: start.addingTimeInterval(60)), limit: 1)
                    .first)
            let sorted = latencies.sorted()
            for (quantile, estimate) in [(0.50, summary.p50), (0.95, summary.p95), (0.99, summary.p99)] {
                let exact = sorted[Int((quantile * Double(sorted.count)).rounded(.up)) - 1]
                let value = try #require(estimate)
                #expect(abs(value - exact) / exact <= 0.19, "p\(Int(quantile * 100)): \(value) vs \(exact)")
            }
            let upstream = try #require(summary.upstreamP50)
            let exactUpstream = sorted[2499] / 2
            #expect(abs(upstream - exactUpstream) / exactUpstream <= 0.19)
        }
    }

    @Test("retention removes exactly what is older than each level keeps")
    func retention() async throws {
        try await withStore { store in
            let now = start.addingTimeInterval(30 * 86_400)
            let ages: [Double] = [1, 3, 10, 29]  // days before now
            try await store.insert(
                ages.map { call(now.addingTimeInterval(-$0 * 86_400), route: "r", status: 200, total: 1) })
            var retention = StoreConfig.Retention()
            retention.calls = ConfigDuration(parsing: "7d")
            retention.minutes = ConfigDuration(parsing: "2d")
            retention.hours = ConfigDuration(parsing: "5d")
            retention.days = nil
            // Minutes not rolled up into hours yet are kept whatever their age…
            try await store.enforce(retention, now: now)
            #expect(
                try await store.database.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rollups WHERE level = 'minute'")
                } == 4)
            // …and go once they are.
            try await store.rollUp(before: now)
            try await store.enforce(retention, now: now)
            let left = try await store.database.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls")!,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rollups WHERE level = 'minute'")!,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rollups WHERE level = 'hour'")!,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rollups WHERE level = 'day'")!
                )
            }
            #expect(left.0 == 2)  // the calls 1 and 3 days old
            #expect(left.1 == 1)  // minutes: 1 day old only
            #expect(left.2 == 2)  // hours: 1 and 3 days old
            #expect(left.3 == 4)  // days are kept forever
        }
    }

    @Test("upgrading a store fills the all-consumer rollups from the per-consumer ones")
    func allConsumerBackfill() async throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/old.sqlite"
        do {
            // A store as version 6 left it, with rollups of two consumers.
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                db.add(function: SQLiteStore.histogramMerge)
                db.add(function: SQLiteStore.histogramSum)
            }
            let old = try DatabaseQueue(path: path, configuration: configuration)
            try SQLiteStore.migrator.migrate(old, upTo: "v6-calls-key-prefix-rate-limit")
            try await old.write { db in
                for (consumer, count) in [("a", 2), ("b", 3)] {
                    try db.execute(
                        sql: """
                            INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors, bytes_in,
                                                 bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                            VALUES ('minute', 60, 'shop', 'v1', 'list', ?, 2, ?, 0, 0, 0, 0, 0, ?, X'')
                            """,
                        arguments: [consumer, count, LatencyHistogram.encode([10: count])])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let rows = try await store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT consumer, count, total_histogram FROM rollups WHERE level = 'all-minute'")
        }
        #expect(rows.count == 1)
        #expect(rows.first?["count"] as Int? == 5 && rows.first?["consumer"] as String? == "")
        var counts: [Int: Int] = [:]
        LatencyHistogram.decode(rows.first?["total_histogram"] as Data? ?? Data(), into: &counts)
        #expect(counts == [10: 5])
    }

    @Test("histograms merge on their bytes exactly as counts add")
    func histogramMerge() {
        let first: [Int: Int] = [0: 1, 5: 2, 99: 7]
        let second: [Int: Int] = [5: 3, 6: 1, 98: 4]
        var merged: [Int: Int] = [:]
        LatencyHistogram.decode(
            LatencyHistogram.merge(LatencyHistogram.encode(first), LatencyHistogram.encode(second)), into: &merged)
        #expect(merged == [0: 1, 5: 5, 6: 1, 98: 4, 99: 7])
        #expect(LatencyHistogram.merge(nil, LatencyHistogram.encode(second)) == LatencyHistogram.encode(second))
        var observed: [Int: Int] = [:]
        LatencyHistogram.decode(LatencyHistogram.encode(observations: [9, 3, 9, 9, 3, 50]), into: &observed)
        #expect(observed == [3: 2, 9: 3, 50: 1])
    }

    @Test("a query ending early in a minute still counts that minute's calls")
    func queryEndInsideAMinute() async throws {
        try await withStore { store in
            // `start` is a whole minute; the call comes 0.2 s into it and the query ends 0.4 s into it.
            try await store.insert([call(start.addingTimeInterval(0.2), route: "r", status: 200, total: 1)])
            let filter = AnalyticsFilter(from: start.addingTimeInterval(-600), to: start.addingTimeInterval(0.4))
            let series = try await store.timeSeries(filter, bucketSeconds: 60)
            #expect(series.map(\.count).reduce(0, +) == 1)
            #expect(try await store.top(.route, filter, limit: 10).first?.count == 1)
        }
    }

    @Test("every field of every call comes back as written, across partly filled multi-row statements")
    func fieldsRoundTrip() async throws {
        try await withStore { store in
            // 1,000 calls fill whole 64-row statements but the last; 37 and 1 are remainders only.
            // Strings: empty, non-ASCII, 70 KB long, and absent.
            var calls: [CallRecord] = []
            for index in 0..<1038 {
                var record = CallRecord(
                    time: start.addingTimeInterval(Double(index) / 7), requestID: "req-\(index)",
                    method: index % 5 == 0 ? "POST" : "GET",
                    path: index == 500 ? "/" + String(repeating: "p", count: 70_000) : "/café/\(index)",
                    api: index % 3 == 0 ? nil : "shop",
                    version: index % 4 == 0 ? "" : "v\(index % 2)",
                    consumer: index % 6 == 0 ? nil : "dev+\(index % 9)@example.com",
                    route: "route-\(index % 11)", status: [200, 201, 404, 429, 503][index % 5], bytesIn: index,
                    bytesOut: index * 3,
                    totalMilliseconds: Double(index) * 0.25,
                    upstreamMilliseconds: index % 2 == 0 ? nil : Double(index) * 0.125,
                    target: index % 2 == 0 ? nil : "http://127.0.0.1:\(9000 + index % 3)",
                    clientAddress: "10.0.0.\(index % 250)",
                    error: index % 5 == 4 ? "bad-gateway" : nil, retries: index % 3)
                record.keyPrefix = index % 2 == 0 ? "ptk_\(index)" : nil
                record.rateLimit = index % 5 == 3 ? "refused per-key" : "allowed per-key r=\(index)"
                record.cache = ["hit", "miss", nil][index % 3]
                record.traceID = index % 7 == 0 ? nil : String(repeating: "ab", count: 16)
                record.protocolVersion = ["1.1", "2", nil][index % 3]
                calls.append(record)
            }
            try await store.insert(Array(calls[0..<1000]))
            try await store.insert(Array(calls[1000..<1037]))
            try await store.insert([calls[1037]])
            var search = CallSearch()
            search.limit = 2000
            let stored = Dictionary(
                try await store.searchCalls(search).map { ($0.requestID, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(stored.count == calls.count)
            for call in calls {
                let row = try #require(stored[call.requestID])
                #expect(row.csvLine == call.csvLine, "\(call.requestID)")
                #expect(row.time.timeIntervalSince1970 == call.time.timeIntervalSince1970)
            }
            // Whole rows in one transaction, so the rollups count each call once.
            let counted = try await store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM rollups WHERE level = 'minute'")
            }
            #expect(counted == calls.count)
        }
    }

    @Test("a full queue drops and counts, and a flush writes what was kept")
    func fullQueue() async throws {
        try await withStore { store in
            let writer = CallLogWriter(store: store, capacity: 10, logger: .init(label: "test"))
            for index in 0..<100 {
                writer.record(call(start.addingTimeInterval(Double(index)), route: "r", status: 200, total: 1))
            }
            #expect(writer.queuedCount == 10)
            #expect(writer.droppedCount == 90)
            await writer.flush()
            #expect(writer.writtenCount == 10)
            let stored = try store.callCount()
            #expect(stored == 10)
        }
    }

    @Test("a write waits while another connection (a CLI command, another gateway) holds the lock")
    func waitsForTheWriteLock() async throws {
        try await withStore { store in
            let other = try SQLiteStore(path: store.path)
            let held = Task {
                try await other.database.write { db in
                    try db.execute(sql: "INSERT OR REPLACE INTO health_probe (id, checked_at) VALUES (1, 0)")
                    Thread.sleep(forTimeInterval: 0.3)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            try await store.insert([call(start, route: "r", status: 200, total: 1)])
            try await held.value
            #expect(try store.callCount() == 1)
        }
    }

    @Test("a backlog is written in batches of at most 1,000, every call once and in order")
    func backlog() async throws {
        try await withStore { store in
            let writer = CallLogWriter(store: store, capacity: 10_000, logger: .init(label: "test"))
            for index in 0..<2500 {
                var record = call(start.addingTimeInterval(Double(index)), route: "r", status: 200, total: 1)
                record.requestID = "call-\(index)"
                writer.record(record)
            }
            #expect(writer.queuedCount == 2500)
            await writer.flush()
            #expect(writer.writtenCount == 2500 && writer.queuedCount == 0)
            let ids = try await store.database.read { db in
                try String.fetchAll(db, sql: "SELECT request_id FROM calls ORDER BY id")
            }
            #expect(ids == (0..<2500).map { "call-\($0)" })
            // The queue's memory is reused: more calls after the flush are written as well.
            for index in 2500..<2600 {
                writer.record(call(start.addingTimeInterval(Double(index)), route: "r", status: 200, total: 1))
            }
            await writer.flush()
            #expect(try store.callCount() == 2600)
        }
    }

    @Test("requests through the gateway become rows with their fields, and the admin API answers from them")
    func endToEnd() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                admin: {listen: "127.0.0.1:0", token: test-admin-token-0123456789abcdef}
                server: {access-log: false, watch-config: false}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - name: backend
                    version: v1
                    base-path: /api
                    upstream: backend
                    routes:
                      - {path: "/echo/{name}", name: echoName}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    for index in 0..<40 {
                        _ = try await client.send(
                            .GET, "/api/echo/n\(index)", headers: [("X-Request-Id", "req-\(index)")])
                    }
                    for _ in 0..<5 { _ = try await client.send(.GET, "/api/missing") }
                    await gateway.app.callLog.flush()

                    let rows = try await gateway.app.store.searchCalls(
                        {
                            var search = CallSearch(); search.limit = 1000; return search
                        }())
                    #expect(rows.count == 45)
                    let first = try #require(rows.first { $0.requestID == "req-0" })
                    #expect(first.method == "GET" && first.path == "/api/echo/n0" && first.api == "backend")
                    #expect(first.version == "v1" && first.route == "echoName" && first.status == 200)
                    #expect(
                        first.bytesOut > 0 && first.upstreamMilliseconds != nil
                            && first.totalMilliseconds >= first.upstreamMilliseconds!)
                    #expect(first.target == "http://127.0.0.1:\(upstreamPort)" && first.clientAddress == "127.0.0.1")

                    let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
                    let auth = [("Authorization", "Bearer test-admin-token-0123456789abcdef")]
                    let top = try await admin.send(.GET, "/admin/analytics/top?by=route&since=1h", headers: auth).json()
                    let topRows = top["rows"] as? [[String: Any]] ?? []
                    #expect(topRows.first?["key"] as? String == "echoName" && topRows.first?["count"] as? Int == 40)
                    #expect(topRows.first?["p95_ms"] as? Double != nil)
                    let series = try await admin.send(
                        .GET, "/admin/analytics/timeseries?since=10m&bucket=1m", headers: auth
                    ).json()
                    #expect(
                        (series["points"] as? [[String: Any]] ?? []).compactMap { $0["count"] as? Int }.reduce(0, +)
                            == 45)
                    let missing = try await admin.send(
                        .GET, "/admin/analytics/calls?status=404&since=1h", headers: auth
                    ).json()
                    #expect((missing["calls"] as? [[String: Any]])?.count == 5)
                    let byID = try await admin.send(
                        .GET, "/admin/analytics/calls?request_id=req-7&format=jsonl", headers: auth)
                    #expect(byID.headers.first(name: "Content-Type") == "application/x-ndjson")
                    #expect(
                        byID.text.split(separator: "\n").count == 1 && byID.text.contains("\"request_id\":\"req-7\""))
                    let csv = try await admin.send(
                        .GET, "/admin/analytics/calls?status=2xx&limit=3&format=csv", headers: auth)
                    let lines = csv.text.split(separator: "\r\n")
                    #expect(lines.count == 4 && lines[0] == Substring(CallRecord.csvHeader))
                    let page = try await admin.send(
                        .GET, "/admin/analytics/calls?status=2xx&limit=10&offset=35", headers: auth
                    ).json()
                    #expect((page["calls"] as? [[String: Any]])?.count == 5)
                    let bad = try await admin.send(.GET, "/admin/analytics/top?by=color", headers: auth)
                    #expect(bad.status == 400 && bad.headers.first(name: "Content-Type") == "application/problem+json")
                    let status = try await admin.send(.GET, "/admin/status", headers: auth).json()
                    #expect((status["call_log"] as? [String: Any])?["dropped"] as? Int == 0)
                }
            }
        }
    }

    @Test("the portal API answers the same queries for the caller's own consumer only")
    func portalUsage() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                server: {access-log: false, watch-config: false}
                portal: {path: /portal}
                \(upstreamYAML(port: upstreamPort))
                auth:
                  keys: {type: api-key}
                consumers:
                  - {name: alpha, keys: [alpha-key-0123456789abcdef]}
                  - {name: beta, keys: [beta-key-0123456789abcdef0]}
                apis:
                  - name: backend
                    base-path: /api
                    upstream: backend
                    auth: [keys]
                    routes:
                      - {path: "/echo/{name}", name: echoName}
                      - {path: "/slow/{ms}", name: slow}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let alpha = [("X-API-Key", "alpha-key-0123456789abcdef")]
                    let beta = [("X-API-Key", "beta-key-0123456789abcdef0")]
                    for index in 0..<6 {
                        _ = try await client.send(
                            .GET, "/api/echo/a\(index)", headers: alpha + [("X-Request-Id", "alpha-\(index)")])
                    }
                    _ = try await client.send(.GET, "/api/slow/1", headers: alpha)
                    for index in 0..<9 { _ = try await client.send(.GET, "/api/echo/b\(index)", headers: beta) }
                    await gateway.app.callLog.flush()

                    let series = try await client.send(
                        .GET, "/portal/api/me/usage?since=10m&bucket=1m&consumer=beta", headers: alpha)
                    #expect(series.status == 200 && series.headers.first(name: "Cache-Control") == "no-store")
                    let points = try series.json()["points"] as? [[String: Any]] ?? []
                    #expect(
                        points.compactMap { $0["count"] as? Int }.reduce(0, +) == 7,
                        "beta's calls stay hidden from alpha")
                    let top = try await client.send(.GET, "/portal/api/me/usage/top?by=route&since=1h", headers: alpha)
                        .json()
                    let rows = top["rows"] as? [[String: Any]] ?? []
                    #expect(rows.map { "\($0["key"] ?? "")=\($0["count"] ?? "")" } == ["echoName=6", "slow=1"])
                    let byConsumer = try await client.send(.GET, "/portal/api/me/usage/top?by=consumer", headers: alpha)
                    #expect(
                        byConsumer.status == 400
                            && byConsumer.headers.first(name: "Content-Type") == "application/problem+json")
                    let calls =
                        try await client.send(.GET, "/portal/api/me/calls?since=1h&limit=100", headers: beta).json()[
                            "calls"] as? [[String: Any]] ?? []
                    #expect(calls.count == 9 && calls.allSatisfy { $0["consumer"] as? String == "beta" })
                    let own =
                        try await client.send(.GET, "/portal/api/me/calls?request_id=alpha-3", headers: alpha).json()[
                            "calls"] as? [[String: Any]]
                    #expect(own?.count == 1)
                    let foreign =
                        try await client.send(.GET, "/portal/api/me/calls?request_id=alpha-3", headers: beta).json()[
                            "calls"] as? [[String: Any]]
                    #expect(foreign?.isEmpty == true)
                    #expect(try await client.send(.GET, "/portal/api/me/usage").status == 401)
                    #expect(try await client.send(.GET, "/portal/api/me/other", headers: alpha).status == 404)
                }
            }
        }
    }
}
