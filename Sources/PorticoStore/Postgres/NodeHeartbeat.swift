import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Tells the other nodes on the shared store that this one is up: its id and the time, every
/// 10 seconds, in `nodes`; `/admin/status` lists the peers seen in the last minute.
package struct NodeHeartbeat: Service {
    let store: PostgresStore
    let node: String
    let logger: Logger
    static let interval = Duration.seconds(10)

    package init(store: PostgresStore, node: String, logger: Logger) {
        self.store = store
        self.node = node
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await store.heartbeat(node: node, now: Date()) } catch {
                    logger.warning("node heartbeat failed", metadata: ["store.error": "\(error)"])
                }
                try? await Task.sleep(for: Self.interval)
            }
        }
    }
}

extension PostgresStore {
    /// Records that `node` is up now.
    package func heartbeat(node: String, now: Date) async throws {
        try await query(
            "INSERT INTO nodes (id, seen) VALUES (\(node), \(now.timeIntervalSince1970)) ON CONFLICT (id) DO UPDATE SET seen = excluded.seen"
        )
    }

    /// The nodes seen since `since`, with when each was last seen.
    package func peers(since: Date) async throws -> [(id: String, seen: Date)] {
        try await rows("SELECT id, seen FROM nodes WHERE seen >= \(since.timeIntervalSince1970) ORDER BY id") { row in
            (try row.text("id"), try row.date("seen"))
        }
    }
}
