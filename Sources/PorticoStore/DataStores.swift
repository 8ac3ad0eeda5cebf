import Logging
import PorticoConfig

/// Opens the store a config names, for the commands that use it once (`portico keys`, `logs`,
/// `analytics`) rather than for a running gateway.
public enum DataStores {
    /// Opens the store of `config`, runs `body` with it, and closes it.
    public static func with<T: Sendable>(
        _ config: StoreConfig, logger: Logger, _ body: @Sendable (any DataStore) async throws -> T
    ) async throws -> T {
        try await body(try SQLiteStore(path: config.sqlitePath))
    }
}
