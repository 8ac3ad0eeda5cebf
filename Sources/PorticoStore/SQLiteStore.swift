import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, migrated on open.
package final class SQLiteStore: Sendable {
    /// The GRDB pool: one writer, concurrent readers.
    package let database: DatabasePool
    package let path: String

    /// Opens (creating the folder and file if needed) and migrates the database at `path`.
    package init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        // Other processes write to the same file (the CLI's consumer and key commands, other
        // gateways): a write waits for their lock instead of failing with "database is locked",
        // which lost the call log's batch or failed the command.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            db.add(function: Self.histogramMerge)
            db.add(function: Self.histogramSum)
        }
        self.database = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-calls") { db in
            try db.create(table: "calls") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .double).notNull()
                table.column("request_id", .text).notNull()
                table.column("method", .text).notNull()
                table.column("path", .text).notNull()
                table.column("api", .text)
                table.column("route", .text)
                table.column("status", .integer).notNull()
                table.column("bytes_in", .integer).notNull()
                table.column("bytes_out", .integer).notNull()
                table.column("total_ms", .double).notNull()
                table.column("upstream_ms", .double)
                table.column("target", .text)
                table.column("client", .text)
                table.column("error", .text)
            }
            try db.create(index: "calls_time", on: "calls", columns: ["time"])
        }
        migrator.registerMigration("v2-calls-version-retries") { db in
            try db.alter(table: "calls") { table in
                table.add(column: "version", .text)
                table.add(column: "retries", .integer).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v3-rollups") { db in
            try db.alter(table: "calls") { table in
                table.add(column: "consumer", .text)
            }
            try db.create(index: "calls_request_id", on: "calls", columns: ["request_id"])
            try db.execute(
                sql: """
                    CREATE TABLE rollups (
                        id INTEGER PRIMARY KEY,
                        level TEXT NOT NULL,
                        bucket INTEGER NOT NULL,
                        api TEXT NOT NULL,
                        version TEXT NOT NULL,
                        route TEXT NOT NULL,
                        consumer TEXT NOT NULL,
                        status_class INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        errors INTEGER NOT NULL,
                        bytes_in INTEGER NOT NULL,
                        bytes_out INTEGER NOT NULL,
                        total_ms REAL NOT NULL,
                        upstream_ms REAL NOT NULL,
                        UNIQUE (level, bucket, api, version, route, consumer, status_class)
                    );
                    CREATE TABLE rollup_histograms (
                        rollup_id INTEGER NOT NULL REFERENCES rollups(id) ON DELETE CASCADE,
                        kind INTEGER NOT NULL,
                        bucket INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (rollup_id, kind, bucket)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4-histogram-blobs") { db in
            // Histograms move into the rollup rows: one upsert per group instead of one per bucket.
            try db.execute(sql: "DROP TABLE rollup_histograms")
            try db.execute(sql: "DROP INDEX IF EXISTS calls_status_time")
            try db.alter(table: "rollups") { table in
                table.add(column: "total_histogram", .blob).notNull().defaults(to: Data())
                table.add(column: "upstream_histogram", .blob).notNull().defaults(to: Data())
            }
        }
        migrator.registerMigration("v5-consumers-keys") { db in
            // Runtime consumers, API keys (digests only) and a counter that every credential
            // change bumps, so gateways polling it see a revocation from any process within a second.
            try db.execute(
                sql: """
                    CREATE TABLE consumers (
                        name TEXT PRIMARY KEY,
                        groups TEXT NOT NULL DEFAULT '',
                        plan TEXT,
                        scopes TEXT NOT NULL DEFAULT '',
                        password_hash TEXT,
                        created REAL NOT NULL
                    );
                    CREATE TABLE api_keys (
                        id INTEGER PRIMARY KEY,
                        consumer TEXT NOT NULL,
                        prefix TEXT NOT NULL,
                        digest BLOB NOT NULL UNIQUE,
                        created REAL NOT NULL,
                        expires REAL,
                        revoked REAL,
                        last_used REAL,
                        replaced_by INTEGER
                    );
                    CREATE INDEX api_keys_consumer ON api_keys (consumer);
                    CREATE TABLE auth_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO auth_generation VALUES (1, 0);
                    CREATE TRIGGER consumers_insert AFTER INSERT ON consumers BEGIN UPDATE auth_generation SET value = value + 1; END;
                    CREATE TRIGGER consumers_update AFTER UPDATE ON consumers BEGIN UPDATE auth_generation SET value = value + 1; END;
                    CREATE TRIGGER consumers_delete AFTER DELETE ON consumers BEGIN UPDATE auth_generation SET value = value + 1; END;
                    CREATE TRIGGER api_keys_insert AFTER INSERT ON api_keys BEGIN UPDATE auth_generation SET value = value + 1; END;
                    CREATE TRIGGER api_keys_update AFTER UPDATE OF consumer, digest, expires, revoked ON api_keys
                        BEGIN UPDATE auth_generation SET value = value + 1; END;
                    CREATE TRIGGER api_keys_delete AFTER DELETE ON api_keys BEGIN UPDATE auth_generation SET value = value + 1; END;
                    """)
        }
        migrator.registerMigration("v6-calls-key-prefix-rate-limit") { db in
            try db.alter(table: "calls") { table in
                table.add(column: "key_prefix", .text)
                table.add(column: "rate_limit", .text)
            }
        }
        migrator.registerMigration("v7-all-consumer-rollups") { db in
            // Rollups summed over all consumers, for queries that do not look at consumers.
            try db.execute(
                sql: """
                    INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors, bytes_in,
                                         bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                    SELECT 'all-' || level, bucket, api, version, route, '', status_class, SUM(count), SUM(errors), SUM(bytes_in),
                           SUM(bytes_out), SUM(total_ms), SUM(upstream_ms),
                           portico_histogram_sum(total_histogram), portico_histogram_sum(upstream_histogram)
                    FROM rollups WHERE level IN ('minute', 'hour', 'day')
                    GROUP BY level, bucket, api, version, route, status_class
                    """)
        }
        migrator.registerMigration("v8-clustered-rollups") { db in
            // Rollups stored in key order (level, bucket, …) instead of insertion order: a query
            // for one level over a time range reads contiguous pages, not rows scattered across a
            // file that per-consumer minutes make large (the 5-minute series over 10 million
            // calls went from 288 ms, most of it page reads, to well under its 200 ms target).
            try db.execute(
                sql: """
                    CREATE TABLE rollups_by_key (
                        level TEXT NOT NULL,
                        bucket INTEGER NOT NULL,
                        api TEXT NOT NULL,
                        version TEXT NOT NULL,
                        route TEXT NOT NULL,
                        consumer TEXT NOT NULL,
                        status_class INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        errors INTEGER NOT NULL,
                        bytes_in INTEGER NOT NULL,
                        bytes_out INTEGER NOT NULL,
                        total_ms REAL NOT NULL,
                        upstream_ms REAL NOT NULL,
                        total_histogram BLOB NOT NULL DEFAULT x'',
                        upstream_histogram BLOB NOT NULL DEFAULT x'',
                        PRIMARY KEY (level, bucket, api, version, route, consumer, status_class)
                    ) WITHOUT ROWID;
                    INSERT INTO rollups_by_key
                        SELECT level, bucket, api, version, route, consumer, status_class, count, errors, bytes_in, bytes_out,
                               total_ms, upstream_ms, total_histogram, upstream_histogram
                        FROM rollups;
                    DROP TABLE rollups;
                    ALTER TABLE rollups_by_key RENAME TO rollups;
                    """)
        }
        migrator.registerMigration("v9-calls-cache") { db in
            try db.alter(table: "calls") { table in table.add(column: "cache", .text) }
        }
        migrator.registerMigration("v10-calls-trace-id-health-probe") { db in
            try db.alter(table: "calls") { table in table.add(column: "trace_id", .text) }
            // One row, rewritten by the readiness probe to show that the store takes writes.
            try db.execute(
                sql: "CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at REAL NOT NULL)")
        }
        migrator.registerMigration("v11-rollup-watermark") { db in
            // Minutes before `until` are rolled into hours and days. Until now every batch wrote
            // all levels, so a store with data starts after its newest minute; an empty one at 0.
            try db.execute(
                sql: """
                    CREATE TABLE rollup_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), until INTEGER NOT NULL);
                    INSERT INTO rollup_watermark (id, until)
                        SELECT 1, COALESCE(MAX(bucket) + 60, 0) FROM rollups WHERE level IN ('minute', 'all-minute');
                    """)
        }
        Self.registerPortalMigration(&migrator)
        migrator.registerMigration("v13-calls-mirror") { db in
            try db.alter(table: "calls") { table in table.add(column: "mirror", .text) }
        }
        migrator.registerMigration("v14-call-backends") { db in
            // A composite endpoint's backend calls, by the client call's request id and time
            // (retention deletes by time, as for `calls`).
            try db.create(table: "call_backends") { table in
                table.column("time", .double).notNull()
                table.column("request_id", .text).notNull()
                table.column("position", .integer).notNull()
                table.column("name", .text).notNull()
                table.column("target", .text)
                table.column("status", .integer).notNull()
                table.column("ms", .double).notNull()
                table.column("error", .text)
                table.column("span_id", .text)
                table.column("cache", .text)
            }
            try db.create(index: "call_backends_request_id", on: "call_backends", columns: ["request_id"])
            try db.create(index: "call_backends_time", on: "call_backends", columns: ["time"])
        }
        migrator.registerMigration("v15-calls-protocol") { db in
            try db.alter(table: "calls") { table in table.add(column: "protocol", .text) }
        }
        migrator.registerMigration("v16-calls-validation") { db in
            try db.alter(table: "calls") { table in table.add(column: "validation", .text) }
        }
        return migrator
    }

    /// `portico_histogram_merge(a, b)`: two encoded histograms added, for upserts.
    static let histogramMerge = DatabaseFunction("portico_histogram_merge", argumentCount: 2, pure: true) { values in
        LatencyHistogram.merge(Data.fromDatabaseValue(values[0]), Data.fromDatabaseValue(values[1]))
    }

    /// `portico_histogram_sum(h)`: the aggregate sum of encoded histograms, for queries.
    static let histogramSum = DatabaseFunction(
        "portico_histogram_sum", argumentCount: 1, pure: true, aggregate: HistogramSum.self)

    final class HistogramSum: DatabaseAggregate {
        var counts = [Int](repeating: 0, count: LatencyHistogram.bucketCount)
        init() {}
        func step(_ values: [DatabaseValue]) {
            if let data = Data.fromDatabaseValue(values[0]) { LatencyHistogram.decode(data, into: &counts) }
        }
        func finalize() -> (any DatabaseValueConvertible)? { LatencyHistogram.encode(dense: counts) }
    }

    /// Writes one row, to show that the store takes writes (the readiness probe).
    package func probeWrite() async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO health_probe (id, checked_at) VALUES (1, ?)",
                arguments: [Date().timeIntervalSince1970])
        }
    }

    /// Inserts a batch of calls, and adds them to the minute rollups, in one transaction. A call
    /// from before the roll-up watermark goes into the hour and day rollups too.
    package func insert(_ calls: [CallRecord]) async throws {
        try await insert(CallRecordBatch(calls))
    }

    /// Inserts packed calls (see `insert(_:)` for `[CallRecord]`), binding their text in place.
    package func insert(_ batch: CallRecordBatch) async throws {
        guard !batch.isEmpty else { return }
        let rollups = RollupBatch(batch)
        try await database.write { db in
            // Many rows per statement: SQLite's per-statement work (and, for the AUTOINCREMENT
            // key, its sqlite_sequence update) is paid once per chunk instead of once per call.
            var backendStarts: [(call: Int, backends: Int)] = []
            try batch.withReader { reader in
                var row = StatementBinder(
                    try Self.callInsert(rows: min(Self.rowsPerInsert, batch.count), in: db), in: db)
                for start in stride(from: 0, to: batch.count, by: Self.rowsPerInsert) {
                    let end = min(start + Self.rowsPerInsert, batch.count)
                    if start > 0 { row.use(try Self.callInsert(rows: end - start, in: db)) }
                    for _ in start..<end {
                        let callStart = reader.offset
                        Self.bindCall(&reader, to: &row)
                        // The backend rows follow the call's fields; most calls have none.
                        let offset = reader.offset
                        if reader.int() > 0 { backendStarts.append((callStart, offset)) }
                        reader = CallReader(buffer: reader.buffer, offset: offset)
                        reader.skipBackends()
                    }
                    try row.run()
                }
            }
            if !backendStarts.isEmpty { try Self.insertBackends(of: batch, at: backendStarts, in: db) }
            try Self.add(rollups, to: db)
            let watermark = try Self.rollupWatermark(db)
            if rollups.earliest < watermark {
                try Self.add(RollupBatch(batch, levels: RollupBatch.Level.coarse, before: watermark), to: db)
            }
        }
    }

    /// Binds one packed call's 24 values; the batch's layout is the columns' order.
    private static func bindCall(_ call: inout CallReader, to row: inout StatementBinder) {
        row.bind(call.double())  // time
        for _ in 0..<7 { row.bind(text: call.text()) }  // request_id, method, path, api, version, consumer, route
        for _ in 0..<3 { row.bind(call.int()) }  // status, bytes_in, bytes_out
        row.bind(call.double())  // total_ms
        row.bind(call.optionalDouble())  // upstream_ms
        for _ in 0..<3 { row.bind(text: call.text()) }  // target, client, error
        row.bind(call.int())  // retries
        // Key_prefix, rate_limit, cache, trace_id, mirror, protocol, validation.
        for _ in 0..<7 { row.bind(text: call.text()) }
    }

    /// Writes the backend rows of the calls at `starts` (where each call and its backend rows
    /// begin in the batch; the call's time and request id are its first fields).
    private static func insertBackends(
        of batch: CallRecordBatch, at starts: [(call: Int, backends: Int)], in db: Database
    ) throws {
        let statement = try db.cachedStatement(
            sql:
                "INSERT INTO call_backends (time, request_id, position, name, target, status, ms, error, span_id, cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        func string(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        try batch.withReader { reader in
            for start in starts {
                reader = CallReader(buffer: reader.buffer, offset: start.call)
                let time = reader.double()
                let requestID = string(reader.text()) ?? ""
                reader = CallReader(buffer: reader.buffer, offset: start.backends)
                for position in 0..<reader.int() {
                    let name = string(reader.text()) ?? ""
                    let target = string(reader.text())
                    let status = reader.int()
                    let milliseconds = reader.double()
                    let (error, span, cache) = (string(reader.text()), string(reader.text()), string(reader.text()))
                    try statement.execute(arguments: [
                        time, requestID, position, name, target, status, milliseconds, error, span, cache,
                    ])
                }
            }
        }
    }

    /// Calls per INSERT statement: 64 rows of 24 values stays well under SQLite's limit of 32,766
    /// bound values.
    static let rowsPerInsert = 64

    /// `INSERT INTO calls … VALUES (…), (…)` for `rows` rows, prepared once per size.
    private static func callInsert(rows: Int, in db: Database) throws -> Statement {
        try db.cachedStatement(sql: rows == rowsPerInsert ? fullCallInsert : callInsertSQL(rows: rows))
    }

    private static let fullCallInsert = callInsertSQL(rows: rowsPerInsert)

    private static func callInsertSQL(rows: Int) -> String {
        let values = "(" + Array(repeating: "?", count: 24).joined(separator: ", ") + ")"
        return """
            INSERT INTO calls (time, request_id, method, path, api, version, consumer, route, status, bytes_in,
                               bytes_out, total_ms, upstream_ms, target, client, error, retries, key_prefix, rate_limit,
                               cache, trace_id, mirror, protocol, validation)
            VALUES
            """ + Array(repeating: values, count: rows).joined(separator: ", ")
    }

    /// The first minute not yet rolled up into hours and days.
    static func rollupWatermark(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT until FROM rollup_watermark")) ?? 0
    }

    /// Rolls the minutes of the hours finished before `now` (and not rolled yet) up into the hour
    /// and day rollups, and moves the watermark past them, in one transaction. Whole hours at a
    /// time, so each hour row is written once from its sixty minutes, not once per minute; the
    /// call log writer tries every 10 seconds, which costs one read until an hour ends. Queries at
    /// the hour and day levels add the minutes after the watermark, so they never wait for it.
    /// Returns the minutes rolled.
    @discardableResult
    package func rollUp(before now: Date) async throws -> Int {
        let until = Int64(now.timeIntervalSince1970) / 3600 * 3600
        return try await database.write { db in
            let from = try Self.rollupWatermark(db)
            guard until > from else { return 0 }
            for level in RollupBatch.Level.coarse {
                try db.execute(
                    sql: """
                        INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors,
                                             bytes_in, bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                        SELECT ?, (bucket / \(level.seconds)) * \(level.seconds) AS coarse, api, version, route, consumer, status_class,
                               SUM(count), SUM(errors), SUM(bytes_in), SUM(bytes_out), SUM(total_ms), SUM(upstream_ms),
                               portico_histogram_sum(total_histogram), portico_histogram_sum(upstream_histogram)
                        FROM rollups WHERE level = ? AND bucket >= ? AND bucket < ?
                        GROUP BY coarse, api, version, route, consumer, status_class
                        \(Self.mergeOnConflict)
                        """,
                    arguments: [level.rawValue, level.source.rawValue, from, until])
            }
            try db.execute(sql: "UPDATE rollup_watermark SET until = ?", arguments: [until])
            return Int((until - from) / 60)
        }
    }

    /// Adds a row's counts and histograms to the row already there for its key.
    static let mergeOnConflict = """
        ON CONFLICT (level, bucket, api, version, route, consumer, status_class) DO UPDATE SET
            count = count + excluded.count, errors = errors + excluded.errors,
            bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
            total_ms = total_ms + excluded.total_ms, upstream_ms = upstream_ms + excluded.upstream_ms,
            total_histogram = portico_histogram_merge(total_histogram, excluded.total_histogram),
            upstream_histogram = portico_histogram_merge(upstream_histogram, excluded.upstream_histogram)
        """

    private static func add(_ rollups: RollupBatch, to db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors,
                                     bytes_in, bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                \(mergeOnConflict)
                """)
        var row = StatementBinder(upsert, in: db)
        for (key, sums) in rollups.groups {
            row.bind(key.level.rawValue)
            row.bind(key.bucket)
            for text in [key.api, key.version, key.route, key.consumer] { row.bind(text) }
            row.bind(key.statusClass)
            row.bind(sums.count)
            row.bind(sums.errors)
            row.bind(sums.bytesIn)
            row.bind(sums.bytesOut)
            row.bind(sums.totalMilliseconds)
            row.bind(sums.upstreamMilliseconds)
            row.bind(LatencyHistogram.encode(observations: sums.total))
            row.bind(LatencyHistogram.encode(observations: sums.upstream))
            try row.run()
        }
    }

    /// How many calls are stored.
    package func callCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") ?? 0 }
    }
}
