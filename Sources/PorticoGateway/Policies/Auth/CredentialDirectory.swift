import Foundation
import Logging
import PorticoConfig
import PorticoStore
import ServiceLifecycle
import Synchronization

/// The store's consumers and keys, kept in memory and read again whenever they change.
///
/// Runs as a service that polls the store's credential generation (a counter that every change
/// bumps, from this process or from `portico keys` in another), so a revoked key is refused
/// within a poll interval with no restart. It also writes keys' last-used times in batches.
package final class CredentialDirectory: Service, Sendable {
    private let store: (any DataStore)?
    private let table = Mutex<CredentialTable>(.empty)
    private let uses = Mutex<[Int64: Date]>([:])
    private let interval: Duration
    private let logger: Logger

    /// Whether the store's credentials have been read once (or there is no store).
    private let loaded: Mutex<Bool>

    /// - Parameter store: nil for a gateway with config-declared credentials only.
    package init(
        store: (any DataStore)?, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "portico.auth")
    ) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.loaded = Mutex(store == nil)
        // The embedded store answers at once: read it now, so the first request already sees its keys.
        if let sqlite = store as? SQLiteStore, let stored = try? sqlite.credentials() {
            table.withLock { $0 = CredentialTable(stored: stored) }
            loaded.withLock { $0 = true }
        }
    }

    /// Waits (up to `limit`) until the store's credentials have been read once: the listeners
    /// open after that, so that no stored key is refused because it was not read yet. False if
    /// the store did not answer in time.
    package func waitUntilLoaded(limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !loaded.withLock({ $0 }) {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    var current: CredentialTable { table.withLock { $0 } }

    /// Notes that a stored key was used; written to the store with the next flush.
    func recordUse(of id: Int64, at time: Date) {
        uses.withLock { $0[id] = time }
    }

    /// Reads the store again if its generation moved. Returns true when the table changed.
    @discardableResult
    package func refresh() async throws -> Bool {
        guard let store else { return false }
        let generation = try await store.authGeneration()
        guard generation != current.generation || !loaded.withLock({ $0 }) else { return false }
        let stored = try await store.credentials()
        table.withLock { $0 = CredentialTable(stored: stored) }
        loaded.withLock { $0 = true }
        logger.debug(
            "credentials reloaded",
            metadata: ["auth.generation": "\(stored.generation)", "keys.count": "\(stored.keys.count)"])
        return true
    }

    /// Writes the last-used times noted since the previous flush.
    package func flushUses() async {
        guard let store else { return }
        let pending = uses.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        guard !pending.isEmpty else { return }
        do { try await store.recordKeyUse(pending) } catch {
            logger.warning("could not record key use", metadata: ["error": "\(error)"])
        }
    }

    package func run() async throws {
        guard store != nil else { return }
        await cancelWhenGracefulShutdown {
            var sinceFlush = Duration.zero
            do { try await self.refresh() } catch {
                self.logger.warning("could not read credentials", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do { try await self.refresh() } catch {
                    self.logger.warning("could not read credentials", metadata: ["error": "\(error)"])
                }
                sinceFlush += self.interval
                if sinceFlush >= .seconds(5) {
                    sinceFlush = .zero
                    await self.flushUses()
                }
            }
        }
        await flushUses()
    }
}
