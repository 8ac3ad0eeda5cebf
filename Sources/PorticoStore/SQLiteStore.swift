import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, migrated on open.
public final class SQLiteStore: Sendable {
    /// The GRDB pool: one writer, concurrent readers.
    public let database: DatabasePool
    public let path: String

    /// Opens (creating the folder and file if needed) and migrates the database at `path`.
    public init(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
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
            try db.create(index: "calls_status_time", on: "calls", columns: ["status", "time"])
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
        return migrator
    }

    /// Inserts a batch of calls, and adds them to the minute, hour and day rollups, in one transaction.
    public func insert(_ calls: [CallRecord]) async throws {
        let rollups = RollupBatch(calls)
        try await database.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO calls (time, request_id, method, path, api, version, consumer, route, status, bytes_in,
                                       bytes_out, total_ms, upstream_ms, target, client, error, retries)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for call in calls {
                try statement.execute(arguments: [
                    call.time.timeIntervalSince1970, call.requestID, call.method, call.path, call.api, call.version,
                    call.consumer, call.route, call.status, call.bytesIn, call.bytesOut, call.totalMilliseconds,
                    call.upstreamMilliseconds, call.target, call.clientAddress, call.error, call.retries,
                ])
            }
            try Self.add(rollups, to: db)
        }
    }

    private static func add(_ rollups: RollupBatch, to db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors,
                                     bytes_in, bytes_out, total_ms, upstream_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (level, bucket, api, version, route, consumer, status_class) DO UPDATE SET
                    count = count + excluded.count, errors = errors + excluded.errors,
                    bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
                    total_ms = total_ms + excluded.total_ms, upstream_ms = upstream_ms + excluded.upstream_ms
                RETURNING id
                """)
        let histogram = try db.cachedStatement(
            sql: """
                INSERT INTO rollup_histograms (rollup_id, kind, bucket, count) VALUES (?, ?, ?, ?)
                ON CONFLICT (rollup_id, kind, bucket) DO UPDATE SET count = count + excluded.count
                """)
        for (key, sums) in rollups.groups {
            guard
                let id = try Int64.fetchOne(
                    upsert,
                    arguments: [
                        key.level.rawValue, key.bucket, key.api, key.version, key.route, key.consumer, key.statusClass,
                        sums.count, sums.errors, sums.bytesIn, sums.bytesOut, sums.totalMilliseconds,
                        sums.upstreamMilliseconds,
                    ])
            else { continue }
            for (kind, counts) in [(0, sums.total), (1, sums.upstream)] {
                for (bucket, count) in counts {
                    try histogram.execute(arguments: [id, kind, bucket, count])
                }
            }
        }
    }

    /// How many calls are stored.
    public func callCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") ?? 0 }
    }
}
