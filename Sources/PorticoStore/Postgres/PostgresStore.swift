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
package final class PostgresStore: DataStore, Service {
    package let client: PostgresClient
    package let url: PostgresURL
    let logger: Logger
    private let migration = MigrationOnce()

    package var kind: String { "postgres" }

    package init(url: PostgresURL, logger: Logger, maximumConnections: Int = 8) throws {
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
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.url = url
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await self.client.run() }
    }

    /// Runs `body` once the schema is current.
    func ready() async throws {
        try await migration.run { try await PostgresSchema.migrate(self.client, logger: self.logger) }
    }

    /// How long one operation may take, waiting for a connection included: while PostgreSQL is
    /// away the pool keeps trying to connect, and a caller (the readiness probe, an admin request,
    /// a credential refresh) gets an error after this instead of waiting for the database to
    /// return. The call log's writes have no limit: they wait, and the queue holds the calls.
    static let operationTimeout = Duration.seconds(10)

    /// Runs a statement whose rows are not needed.
    func query(_ query: PostgresQuery, timeout: Duration? = operationTimeout) async throws {
        _ = try await rows(query, timeout: timeout) { _ in true }
    }

    /// Rows of `query`, each read into a value by `read`.
    func rows<T: Sendable>(
        _ query: PostgresQuery, timeout: Duration? = operationTimeout,
        _ read: @escaping @Sendable (PostgresRandomAccessRow) throws -> T
    ) async throws -> [T] {
        try await within(timeout) {
            try await self.ready()
            var result: [T] = []
            for try await row in try await self.client.query(query, logger: self.logger) {
                result.append(try read(row.makeRandomAccess()))
            }
            return result
        }
    }

    /// Runs `body` in a transaction; an error `body` throws comes out as it is (not wrapped).
    func transaction<T: Sendable>(
        timeout: Duration? = operationTimeout, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await within(timeout) {
            try await self.ready()
            do {
                return try await self.client.withTransaction(logger: self.logger) { connection in
                    try await body(connection)
                }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error.commitError ?? error.beginError ?? error
            }
        }
    }

    /// `body`'s result, or `PostgresStoreError.timeout` once `limit` has passed. The operation is
    /// not cancelled then, only no longer waited for: cancelling PostgresNIO's connection lease or
    /// a statement in flight left the pool's connections leased (seen in the outage test), and
    /// the database may still finish it. Waiting callers are bounded by their callers' pace (the
    /// probe once a second, refreshes four times a second).
    func within<T: Sendable>(_ limit: Duration?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // PostgresNIO's errors describe themselves as "Generic description …" to keep SQL and
        // values out of logs; the code and the server's message say what happened without them.
        let body: @Sendable () async throws -> T = {
            do { return try await body() } catch let error as PSQLError {
                throw PostgresStoreError.database(Self.describe(error))
            }
        }
        guard let limit else { return try await body() }
        return try await withCheckedThrowingContinuation { continuation in
            let answer = ResumeOnce(continuation)
            let timer = Task {
                try await Task.sleep(for: limit)
                answer.resume(.failure(PostgresStoreError.timeout(limit)))
            }
            Task {
                do { answer.resume(.success(try await body())) } catch { answer.resume(.failure(error)) }
                // Only the timer is cancelled, never the operation: most end long before their limit.
                timer.cancel()
            }
        }
    }

    package func probeWrite() async throws {
        try await query(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, \(Date().timeIntervalSince1970)) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            timeout: .seconds(2))
    }

    package func callCount() async throws -> Int {
        try await rows("SELECT COUNT(*) FROM calls") { try $0[0].decode(Int.self) }.first ?? 0
    }
}

package enum PostgresStoreError: Error, CustomStringConvertible {
    case timeout(Duration)
    case database(String)

    package var description: String {
        switch self {
        case .timeout(let limit): return "PostgreSQL did not answer within \(limit)"
        case .database(let detail): return "PostgreSQL: \(detail)"
        }
    }
}

extension PostgresStore {
    /// A PostgresNIO error's code, and the server's SQLSTATE and message when it sent one.
    static func describe(_ error: PSQLError) -> String {
        var text = "\(error.code)"
        if let state = error.serverInfo?[.sqlState] { text += " \(state)" }
        if let message = error.serverInfo?[.message] { text += ": \(message)" }
        if error.serverInfo == nil, let underlying = error.underlying {
            text += " (" + ((underlying as? PSQLError).map(describe) ?? "\(underlying)") + ")"
        }
        return text
    }
}

/// A continuation that the first of several results resumes.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
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
    func optionalDate(_ column: String) throws -> Date? {
        try optionalDouble(column).map(Date.init(timeIntervalSince1970:))
    }
    func bytes(_ column: String) throws -> [UInt8] {
        var buffer = try self[column].decode(ByteBuffer.self)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
