import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on the shared store's channels so that a change made on one node applies on every
/// node at once: `portico_auth` (a trigger sends it when consumers or keys change) makes the
/// node read its credentials again, `portico_cache` carries a cache purge made through any
/// node's admin API. Each channel holds one connection of the pool; a lost one is listened on
/// again after a second. Polling the credential generation stays as the fallback.
package struct PostgresNotifications: Service {
    package static let authChannel = "portico_auth"
    package static let cacheChannel = "portico_cache"

    let store: PostgresStore
    let handlers: [String: @Sendable (String) async -> Void]
    let logger: Logger

    package init(
        store: PostgresStore, logger: Logger, onAuthChange: @escaping @Sendable () async -> Void,
        onCachePurge: @escaping @Sendable (String) async -> Void
    ) {
        self.store = store
        self.logger = logger
        self.handlers = [Self.authChannel: { _ in await onAuthChange() }, Self.cacheChannel: onCachePurge]
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for (channel, handler) in handlers {
                    group.addTask { await listen(on: channel, handler) }
                }
            }
        }
    }

    private func listen(on channel: String, _ handler: @Sendable (String) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await store.ready()
                try await store.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications { await handler(notification.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug(
                    "listening on the store failed; again in a second",
                    metadata: ["channel": "\(channel)", "store.error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

extension PostgresStore {
    /// The most a notification may carry (PostgreSQL's limit is 8,000 bytes).
    package static let maximumNotificationBytes = 7_900

    /// Sends `payload` to every node listening on `channel`.
    package func notify(_ channel: String, payload: String) async throws {
        guard payload.utf8.count <= Self.maximumNotificationBytes else {
            throw PostgresNotificationError.payloadTooLarge
        }
        try await query("SELECT pg_notify(\(channel), \(payload))")
    }
}

package enum PostgresNotificationError: Error {
    case payloadTooLarge
}
