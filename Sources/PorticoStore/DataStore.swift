import Foundation
import PorticoConfig

/// What the gateway keeps beyond one request: runtime consumers and API keys, the portal's
/// accounts, sessions and apps, the call log with its rollups, and the analytics read from them.
///
/// Two stores implement it, with the same queries and one test suite: `SQLiteStore` (the
/// embedded default, one file per node) and `PostgresStore` (`store.postgres`, shared by a
/// cluster's nodes). A synchronous method of SQLite's satisfies an `async` requirement here.
package protocol DataStore: Sendable {
    /// `sqlite` or `postgres`, for `/admin/status`.
    var kind: String { get }

    // MARK: Consumers and keys

    func createConsumer(_ consumer: StoredConsumer) async throws
    func consumers() async throws -> [StoredConsumer]
    func consumer(named name: String) async throws -> StoredConsumer?
    /// Deletes a runtime consumer and all its keys.
    func deleteConsumer(named name: String) async throws
    func setPasswordHash(_ hash: String?, forConsumer name: String) async throws
    func createKey(forConsumer consumer: String, expires: Date?, now: Date) async throws -> CreatedKey
    /// The consumer's keys, newest first, revoked ones included.
    func keys(ofConsumer consumer: String) async throws -> [StoredKey]
    func revokeKey(id: Int64, ofConsumer consumer: String, now: Date) async throws
    /// Replaces a key; the old one keeps working for `grace`, then expires.
    func rotateKey(id: Int64, ofConsumer consumer: String, grace: TimeInterval, now: Date) async throws -> CreatedKey
    func recordKeyUse(_ uses: [Int64: Date]) async throws
    /// The counter every credential change bumps.
    func authGeneration() async throws -> Int
    /// Runtime consumers and every key not revoked, read with the generation they belong to.
    func credentials() async throws -> StoredCredentials

    // MARK: The portal

    func createAccount(email: String, passwordHash: String, plan: String?, now: Date) async throws -> PortalAccount
    func account(email: String) async throws -> PortalAccount?
    func createSession(digest: [UInt8], account: Int64, csrf: String, expires: Date, now: Date) async throws
    func session(digest: [UInt8], now: Date) async throws -> PortalSession?
    func deleteSession(digest: [UInt8]) async throws
    func createApp(account: Int64, name: String, description: String, active: Bool, now: Date) async throws -> PortalApp
    func apps(account: Int64?, status: PortalApp.Status?) async throws -> [PortalApp]
    func app(id: Int64) async throws -> PortalApp?
    func decideApp(id: Int64, approve: Bool, now: Date) async throws -> PortalApp
    func createAppKey(app id: Int64, account: Int64, now: Date) async throws -> CreatedKey
    func appKeys(app id: Int64, account: Int64) async throws -> [StoredKey]
    func revokeAppKey(_ key: Int64, app id: Int64, account: Int64, now: Date) async throws
    func rotateAppKey(
        _ key: Int64, app id: Int64, account: Int64, grace: TimeInterval, now: Date
    ) async throws -> CreatedKey

    // MARK: Calls and analytics

    /// Inserts a batch of calls and adds them to the minute rollups, in one transaction.
    func insert(_ batch: CallRecordBatch) async throws
    /// Rolls finished hours of minutes into the hour and day rollups, once; returns the minutes rolled.
    @discardableResult func rollUp(before now: Date) async throws -> Int
    func timeSeries(_ filter: AnalyticsFilter, bucketSeconds: Int) async throws -> [UsageSummary]
    func top(_ dimension: UsageDimension, _ filter: AnalyticsFilter, limit: Int) async throws -> [UsageSummary]
    func searchCalls(_ search: CallSearch) async throws -> [CallRecord]
    /// Deletes what is older than each level's retention; returns the rows removed.
    @discardableResult func enforce(_ retention: StoreConfig.Retention, now: Date) async throws -> Int
    /// Writes one row, to show that the store takes writes (the readiness probe).
    func probeWrite() async throws
    func callCount() async throws -> Int
}

extension DataStore {
    package func createKey(forConsumer consumer: String, expires: Date?) async throws -> CreatedKey {
        try await createKey(forConsumer: consumer, expires: expires, now: Date())
    }
    package func revokeKey(id: Int64, ofConsumer consumer: String) async throws {
        try await revokeKey(id: id, ofConsumer: consumer, now: Date())
    }
    package func rotateKey(id: Int64, ofConsumer consumer: String, grace: TimeInterval) async throws -> CreatedKey {
        try await rotateKey(id: id, ofConsumer: consumer, grace: grace, now: Date())
    }
    package func createAccount(email: String, passwordHash: String, plan: String?) async throws -> PortalAccount {
        try await createAccount(email: email, passwordHash: passwordHash, plan: plan, now: Date())
    }
    package func createSession(digest: [UInt8], account: Int64, csrf: String, expires: Date) async throws {
        try await createSession(digest: digest, account: account, csrf: csrf, expires: expires, now: Date())
    }
    package func session(digest: [UInt8]) async throws -> PortalSession? {
        try await session(digest: digest, now: Date())
    }
    package func createApp(account: Int64, name: String, description: String, active: Bool) async throws -> PortalApp {
        try await createApp(account: account, name: name, description: description, active: active, now: Date())
    }
    package func decideApp(id: Int64, approve: Bool) async throws -> PortalApp {
        try await decideApp(id: id, approve: approve, now: Date())
    }
    package func createAppKey(app id: Int64, account: Int64) async throws -> CreatedKey {
        try await createAppKey(app: id, account: account, now: Date())
    }
    package func revokeAppKey(_ key: Int64, app id: Int64, account: Int64) async throws {
        try await revokeAppKey(key, app: id, account: account, now: Date())
    }
    package func rotateAppKey(
        _ key: Int64, app id: Int64, account: Int64, grace: TimeInterval
    ) async throws -> CreatedKey {
        try await rotateAppKey(key, app: id, account: account, grace: grace, now: Date())
    }
}

extension SQLiteStore: DataStore {
    package var kind: String { "sqlite" }
}
