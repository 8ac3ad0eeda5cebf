import Foundation
import Logging
import NIOSSL
import PorticoConfig
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The shared store: one PostgreSQL database that every node of a cluster uses, with the same
/// tables and queries as `SQLiteStore` (see `PostgresSchema`).
///
/// As a `Service` it runs the client's connection pool. The schema is migrated by the first
/// query of each process, under an advisory lock, so nodes starting together migrate once.
/// Credential changes bump `auth_generation` and `NOTIFY portico_auth` (triggers), which every
/// node's `CredentialDirectory` polls; the hour and day rollups are computed by whichever node
/// holds the rollup lock.
public final class PostgresStore: DataStore, Service {
    public let client: PostgresClient
    public let url: PostgresURL
    let logger: Logger
    private let migration = MigrationOnce()

    public var kind: String { "postgres" }

    public init(url: PostgresURL, logger: Logger, maximumConnections: Int = 8) throws {
        let tls: PostgresClient.Configuration.TLS
        switch url.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = url.tls == .prefer ? .prefer(configuration) : .require(configuration)
        case .verifyFull:
            tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.url = url
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.client.run() }
    }

    /// Runs `body` once the schema is current.
    func ready() async throws {
        try await migration.run { try await PostgresSchema.migrate(self.client, logger: self.logger) }
    }

    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await ready()
        return try await client.query(query, logger: logger)
    }

    /// Rows of `query`, each read into a value by `read`.
    func rows<T>(_ query: PostgresQuery, _ read: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in try await self.query(query) { result.append(try read(row.makeRandomAccess())) }
        return result
    }

    /// Runs `body` in a transaction; an error `body` throws comes out as it is (not wrapped).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await ready()
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }

    public func probeWrite() async throws {
        try await query("INSERT INTO health_probe (id, checked_at) VALUES (1, \(Date().timeIntervalSince1970)) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at")
    }

    public func callCount() async throws -> Int {
        try await rows("SELECT COUNT(*) FROM calls") { try $0[0].decode(Int.self) }.first ?? 0
    }
}

/// Runs an async body once; after a failure the next caller tries again.
final class MigrationOnce: Sendable {
    private let state = Mutex<Task<Void, any Error>?>(nil)

    func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = state.withLock { current in
            if let current { return current }
            let task = Task { try await body() }
            current = task
            return task
        }
        do {
            try await task.value
        } catch {
            state.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }
}

extension PostgresRandomAccessRow {
    func text(_ column: String) throws -> String { try self[column].decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    func int(_ column: String) throws -> Int { try self[column].decode(Int.self) }
    func int64(_ column: String) throws -> Int64 { try self[column].decode(Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try self[column].decode(Int64?.self) }
    func double(_ column: String) throws -> Double { try self[column].decode(Double.self) }
    func optionalDouble(_ column: String) throws -> Double? { try self[column].decode(Double?.self) }
    func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: try double(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalDouble(column).map(Date.init(timeIntervalSince1970:)) }
    func bytes(_ column: String) throws -> [UInt8] {
        var buffer = try self[column].decode(ByteBuffer.self)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
