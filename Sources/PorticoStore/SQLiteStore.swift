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
        return migrator
    }

    /// Inserts a batch of calls in one transaction.
    func insert(_ calls: [CallRecord]) async throws {
        try await database.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO calls (time, request_id, method, path, api, version, route, status, bytes_in, bytes_out,
                                       total_ms, upstream_ms, target, client, error, retries)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for call in calls {
                try statement.execute(arguments: [
                    call.time.timeIntervalSince1970, call.requestID, call.method, call.path, call.api, call.version,
                    call.route, call.status, call.bytesIn, call.bytesOut, call.totalMilliseconds,
                    call.upstreamMilliseconds, call.target, call.clientAddress, call.error, call.retries,
                ])
            }
        }
    }

    /// How many calls are stored.
    public func callCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") ?? 0 }
    }
}
