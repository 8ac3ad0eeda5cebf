import Logging
import PorticoConfig

/// Opens the store a config names, for the commands that use it once (`portico keys`, `logs`,
/// `analytics`) rather than for a running gateway.
package enum DataStores {
    /// The store `config` names, not yet running: a `PostgresStore` must be run (it is a
    /// `Service`) for its queries to be answered.
    package static func open(_ config: StoreConfig, logger: Logger) throws -> any DataStore {
        if let url = config.postgres { return try PostgresStore(url: url, logger: logger) }
        return try SQLiteStore(path: config.sqlitePath)
    }

    /// Opens the store of `config`, runs `body` with it, and closes it.
    package static func with<T: Sendable>(
        _ config: StoreConfig, logger: Logger, _ body: @Sendable (any DataStore) async throws -> T
    ) async throws -> T {
        let store = try open(config, logger: logger)
        guard let postgres = store as? PostgresStore else { return try await body(store) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await postgres.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(postgres)
        }
    }
}
