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
public final class CredentialDirectory: Service, Sendable {
    private let store: SQLiteStore?
    private let table = Mutex<CredentialTable>(.empty)
    private let uses = Mutex<[Int64: Date]>([:])
    private let interval: Duration
    private let logger: Logger

    /// - Parameter store: nil for a gateway with config-declared credentials only.
    public init(store: SQLiteStore?, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "portico.auth")) {
        self.store = store
        self.interval = interval
        self.logger = logger
        if let store, let stored = try? store.credentials() { table.withLock { $0 = CredentialTable(stored: stored) } }
    }

    var current: CredentialTable { table.withLock { $0 } }

    /// Notes that a stored key was used; written to the store with the next flush.
    func recordUse(of id: Int64, at time: Date) {
        uses.withLock { $0[id] = time }
    }

    /// Reads the store again if its generation moved. Returns true when the table changed.
    @discardableResult
    public func refresh() throws -> Bool {
        guard let store else { return false }
        let generation = try store.authGeneration()
        guard generation != current.generation else { return false }
        let stored = try store.credentials()
        table.withLock { $0 = CredentialTable(stored: stored) }
        logger.debug("credentials reloaded", metadata: ["auth.generation": "\(stored.generation)", "keys.count": "\(stored.keys.count)"])
        return true
    }

    /// Writes the last-used times noted since the previous flush.
    public func flushUses() {
        guard let store else { return }
        let pending = uses.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        do { try store.recordKeyUse(pending) } catch { logger.warning("could not record key use", metadata: ["error": "\(error)"]) }
    }

    public func run() async throws {
        guard store != nil else { return }
        await cancelWhenGracefulShutdown {
            var sinceFlush = Duration.zero
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do { try self.refresh() } catch { self.logger.warning("could not read credentials", metadata: ["error": "\(error)"]) }
                sinceFlush += self.interval
                if sinceFlush >= .seconds(5) {
                    sinceFlush = .zero
                    self.flushUses()
                }
            }
        }
        flushUses()
    }
}
