import Foundation
import GRDB
import Logging
import PorticoConfig
import ServiceLifecycle

/// Deletes call records and rollups older than their retention, at start and then every hour.
package struct RetentionService: Service {
    let store: any DataStore
    let retention: StoreConfig.Retention
    let logger: Logger

    package init(store: any DataStore, retention: StoreConfig.Retention, logger: Logger) {
        self.store = store
        self.retention = retention
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await store.enforce(retention, now: Date())
                    if removed > 0 {
                        logger.info("retention removed old records", metadata: ["rows.count": "\(removed)"])
                    }
                } catch {
                    logger.error("retention failed", metadata: ["store.error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}

extension SQLiteStore {
    /// Deletes what is older than each level's retention; returns the rows removed.
    @discardableResult
    package func enforce(_ retention: StoreConfig.Retention, now: Date) async throws -> Int {
        try await database.write { db in
            var removed = 0
            if let keep = retention.calls {
                try db.execute(
                    sql: "DELETE FROM calls WHERE time < ?", arguments: [now.timeIntervalSince1970 - keep.seconds])
                removed += db.changesCount
                try db.execute(
                    sql: "DELETE FROM call_backends WHERE time < ?",
                    arguments: [now.timeIntervalSince1970 - keep.seconds])
            }
            let levels = [("minute", retention.minutes), ("hour", retention.hours), ("day", retention.days)]
            for (level, keep) in levels + levels.map({ (RollupBatch.Level.allConsumersPrefix + $0.0, $0.1) }) {
                guard let keep else { continue }
                // A rollup covers [bucket, bucket + length): it goes once its end is older than the retention.
                let length: Double = level.hasSuffix("minute") ? 60 : level.hasSuffix("hour") ? 3600 : 86_400
                // Minutes not rolled up into hours yet stay until they are.
                try db.execute(
                    sql: "DELETE FROM rollups WHERE level = ? AND bucket + ? <= ?"
                        + (length == 60 ? " AND bucket < (SELECT until FROM rollup_watermark)" : ""),
                    arguments: [level, length, now.timeIntervalSince1970 - keep.seconds])
                removed += db.changesCount
            }
            return removed
        }
    }
}
