import Foundation
import NIOCore
import PorticoConfig
import PostgresNIO

/// The call log: batches written with multi-row `INSERT`s, and their minute rollups upserted in
/// the same transaction; the hour and day roll-up under an advisory lock; retention.
extension PostgresStore {
    static let callColumns = [
        "time", "request_id", "method", "path", "api", "version", "consumer", "route", "status", "bytes_in",
        "bytes_out", "total_ms",
        "upstream_ms", "target", "client", "error", "retries", "key_prefix", "rate_limit", "cache", "trace_id",
        "mirror", "protocol",
        "validation",
    ]
    static let backendColumns = [
        "time", "request_id", "position", "name", "target", "status", "ms", "error", "span_id", "cache",
    ]

    package func insert(_ batch: CallRecordBatch) async throws {
        guard !batch.isEmpty else { return }
        let (calls, backends) = Self.insertStatements(batch)
        let rollups = RollupBatch(batch)
        let id = batch.id
        // A batch given up on here may still commit; its id makes the next try a no-op then.
        try await transaction(timeout: Self.insertTimeout) { connection in
            if let id {
                let first = try await Self.returnsRows(
                    connection,
                    "INSERT INTO call_batches (id, written) VALUES (\(id.uuidString), \(Date().timeIntervalSince1970)) ON CONFLICT (id) DO NOTHING RETURNING id",
                    logger: self.logger)
                guard first else { return }
            }
            for statement in calls + backends { try await connection.query(statement, logger: self.logger) }
            try await Self.add(rollups, to: connection, logger: self.logger)
            var watermark: Int64 = 0
            for try await value in try await connection.query(
                "SELECT until FROM rollup_watermark WHERE id = 1", logger: self.logger
            )
            .decode(Int64.self) {
                watermark = value
            }
            if rollups.earliest < watermark {
                try await Self.add(
                    RollupBatch(batch, levels: RollupBatch.Level.coarse, before: watermark), to: connection,
                    logger: self.logger)
            }
        }
    }

    /// How long a batch's transaction may take before the writer tries it again (the attempt is
    /// not cancelled; see `PostgresStore.within`).
    static let insertTimeout = Duration.seconds(15)

    /// Calls per `INSERT` statement: 500 rows of 24 values, within PostgreSQL's 65,535 binds.
    static let rowsPerInsert = 500

    /// The batch as multi-row `INSERT`s of bound values, straight from its packed fields. (Not
    /// `COPY`: a connection lost during a `COPY` left PostgresNIO's copy waiting forever, which
    /// stopped the call log after a database restart; an `INSERT` fails like any query.)
    static func insertStatements(_ batch: CallRecordBatch) -> (calls: [PostgresQuery], backends: [PostgresQuery]) {
        var calls: [PostgresQuery] = []
        var backends: [PostgresQuery] = []
        var callBinds = PostgresBindings(capacity: min(batch.count, rowsPerInsert) * callColumns.count)
        var callRows = 0
        var backendBinds = PostgresBindings()
        var backendRows = 0
        func text(_ bytes: UnsafeRawBufferPointer?, _ binds: inout PostgresBindings) {
            guard let bytes else { return binds.appendNull() }
            // PostgreSQL's text holds no NUL: it is kept as U+FFFD, so the call is not lost.
            let value = String(decoding: bytes, as: UTF8.self)
            binds.append(value.contains("\u{0}") ? value.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : value)
        }
        func flushCalls() {
            guard callRows > 0 else { return }
            calls.append(PostgresQuery(unsafeSQL: insertSQL("calls", callColumns, rows: callRows), binds: callBinds))
            callBinds = PostgresBindings(capacity: rowsPerInsert * callColumns.count)
            callRows = 0
        }
        func flushBackends() {
            guard backendRows > 0 else { return }
            backends.append(
                PostgresQuery(
                    unsafeSQL: insertSQL("call_backends", backendColumns, rows: backendRows), binds: backendBinds))
            backendBinds = PostgresBindings()
            backendRows = 0
        }
        batch.forEachCall { reader in
            let time = reader.double()
            callBinds.append(time)
            let requestID = reader.text()
            text(requestID, &callBinds)
            for _ in 0..<6 { text(reader.text(), &callBinds) }  // method, path, api, version, consumer, route
            for _ in 0..<3 { callBinds.append(reader.int()) }  // status, bytes_in, bytes_out
            callBinds.append(reader.double())  // total_ms
            if let upstream = reader.optionalDouble() { callBinds.append(upstream) } else { callBinds.appendNull() }
            for _ in 0..<3 { text(reader.text(), &callBinds) }  // target, client, error
            callBinds.append(reader.int())  // retries
            for _ in 0..<7 { text(reader.text(), &callBinds) }  // key_prefix … validation
            callRows += 1
            if callRows == rowsPerInsert { flushCalls() }
            for position in 0..<reader.int() {
                backendBinds.append(time)
                text(requestID, &backendBinds)
                backendBinds.append(position)
                for _ in 0..<2 { text(reader.text(), &backendBinds) }  // name, target
                backendBinds.append(reader.int())  // status
                backendBinds.append(reader.double())  // ms
                for _ in 0..<3 { text(reader.text(), &backendBinds) }  // error, span_id, cache
                backendRows += 1
                if backendRows == rowsPerInsert { flushBackends() }
            }
        }
        flushCalls()
        flushBackends()
        return (calls, backends)
    }

    /// `INSERT INTO table (columns) VALUES ($1, …), (…)` for `rows` rows.
    static func insertSQL(_ table: String, _ columns: [String], rows: Int) -> String {
        var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        var number = 1
        for row in 0..<rows {
            if row > 0 { sql += ", " }
            sql += "(" + (0..<columns.count).map { offset in "$\(number + offset)" }.joined(separator: ", ") + ")"
            number += columns.count
        }
        return sql
    }

    /// Adds a row's counts and histograms to the row already there for its key.
    static let mergeOnConflict = """
        ON CONFLICT (level, bucket, api, version, route, consumer, status_class) DO UPDATE SET
            count = rollups.count + excluded.count, errors = rollups.errors + excluded.errors,
            bytes_in = rollups.bytes_in + excluded.bytes_in, bytes_out = rollups.bytes_out + excluded.bytes_out,
            total_ms = rollups.total_ms + excluded.total_ms, upstream_ms = rollups.upstream_ms + excluded.upstream_ms,
            total_histogram = portico_histogram_add(rollups.total_histogram, excluded.total_histogram),
            upstream_histogram = portico_histogram_add(rollups.upstream_histogram, excluded.upstream_histogram)
        """

    /// Upserts the batch's groups, in key order (so that nodes writing the same rows at once
    /// lock them in the same order and never deadlock), up to 1,000 rows per statement.
    static func add(_ rollups: RollupBatch, to connection: PostgresConnection, logger: Logger) async throws {
        let groups = rollups.groups.sorted { a, b in
            let (x, y) = (a.key, b.key)
            if (x.level.rawValue, x.bucket, x.api) != (y.level.rawValue, y.bucket, y.api) {
                return (x.level.rawValue, x.bucket, x.api) < (y.level.rawValue, y.bucket, y.api)
            }
            return (x.version, x.route, x.consumer, x.statusClass) < (y.version, y.route, y.consumer, y.statusClass)
        }
        for start in stride(from: 0, to: groups.count, by: 1000) {
            let chunk = groups[start..<min(start + 1000, groups.count)]
            var binds = PostgresBindings(capacity: chunk.count * 15)
            var values: [String] = []
            for (key, sums) in chunk {
                let first = binds.count + 1
                values.append("(" + (first..<first + 15).map { "$\($0)" }.joined(separator: ", ") + ")")
                binds.append(key.level.rawValue)
                binds.append(key.bucket)
                for text in [key.api, key.version, key.route, key.consumer] { binds.append(text) }
                binds.append(key.statusClass)
                binds.append(sums.count)
                binds.append(sums.errors)
                binds.append(sums.bytesIn)
                binds.append(sums.bytesOut)
                binds.append(sums.totalMilliseconds)
                binds.append(sums.upstreamMilliseconds)
                binds.append(dense(sums.total))
                binds.append(dense(sums.upstream))
            }
            let sql = """
                INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors,
                                     bytes_in, bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                VALUES \(values.joined(separator: ", "))
                \(mergeOnConflict)
                """
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        }
    }

    /// Observations (one latency bucket each) as dense counts.
    static func dense(_ observations: [UInt8]) -> [Int64] {
        var counts = [Int64](repeating: 0, count: LatencyHistogram.bucketCount)
        for bucket in observations where Int(bucket) < counts.count { counts[Int(bucket)] += 1 }
        return counts
    }

    /// Rolls the minutes of finished hours into hours and days, as `SQLiteStore.rollUp`, once:
    /// a node that does not get the rollup lock at once leaves it to the node that has it.
    @discardableResult
    package func rollUp(before now: Date) async throws -> Int {
        let until = Int64(now.timeIntervalSince1970) / 3600 * 3600
        return try await transaction(timeout: nil) { connection in
            var locked = false
            for try await value in try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(PostgresSchema.rollupLock))", logger: self.logger
            )
            .decode(Bool.self) {
                locked = value
            }
            guard locked else { return 0 }
            var from: Int64 = 0
            for try await value in try await connection.query(
                "SELECT until FROM rollup_watermark WHERE id = 1", logger: self.logger
            )
            .decode(Int64.self) {
                from = value
            }
            guard until > from else { return 0 }
            for level in RollupBatch.Level.coarse {
                let sql = """
                    INSERT INTO rollups (level, bucket, api, version, route, consumer, status_class, count, errors,
                                         bytes_in, bytes_out, total_ms, upstream_ms, total_histogram, upstream_histogram)
                    SELECT $1, (bucket / \(level.seconds)) * \(level.seconds) AS coarse, api, version, route, consumer, status_class,
                           SUM(count), SUM(errors), SUM(bytes_in), SUM(bytes_out), SUM(total_ms), SUM(upstream_ms),
                           portico_histogram_sum(total_histogram), portico_histogram_sum(upstream_histogram)
                    FROM rollups WHERE level = $2 AND bucket >= $3 AND bucket < $4
                    GROUP BY coarse, api, version, route, consumer, status_class
                    \(Self.mergeOnConflict)
                    """
                var binds = PostgresBindings()
                binds.append(level.rawValue)
                binds.append(level.source.rawValue)
                binds.append(from)
                binds.append(until)
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
            }
            try await connection.query("UPDATE rollup_watermark SET until = \(until) WHERE id = 1", logger: self.logger)
            return Int((until - from) / 60)
        }
    }

    @discardableResult
    package func enforce(_ retention: StoreConfig.Retention, now: Date) async throws -> Int {
        try await transaction { connection in
            var removed = 0
            func count(_ query: PostgresQuery) async throws {
                for try await _ in try await connection.query(query, logger: self.logger) { removed += 1 }
            }
            if let keep = retention.calls {
                let before = now.timeIntervalSince1970 - keep.seconds
                try await count("DELETE FROM calls WHERE time < \(before) RETURNING 1")
                try await connection.query("DELETE FROM call_backends WHERE time < \(before)", logger: self.logger)
            }
            // A batch id matters only while its write may still be retried: a day is plenty.
            try await connection.query(
                "DELETE FROM call_batches WHERE written < \(now.timeIntervalSince1970 - 86_400)", logger: self.logger)
            let levels = [("minute", retention.minutes), ("hour", retention.hours), ("day", retention.days)]
            for (level, keep) in levels + levels.map({ (RollupBatch.Level.allConsumersPrefix + $0.0, $0.1) }) {
                guard let keep else { continue }
                let length: Int64 = level.hasSuffix("minute") ? 60 : level.hasSuffix("hour") ? 3600 : 86_400
                let before = Int64(now.timeIntervalSince1970 - keep.seconds)
                if length == 60 {
                    try await count(
                        "DELETE FROM rollups WHERE level = \(level) AND bucket + \(length) <= \(before) AND bucket < (SELECT until FROM rollup_watermark) RETURNING 1"
                    )
                } else {
                    try await count(
                        "DELETE FROM rollups WHERE level = \(level) AND bucket + \(length) <= \(before) RETURNING 1")
                }
            }
            return removed
        }
    }
}
