import Foundation
import NIOCore
import PorticoConfig
import PostgresNIO

/// The developer portal's accounts, sessions and apps, as `SQLiteStore+Portal` keeps them.
extension PostgresStore {
    package func createAccount(
        email: String, passwordHash: String, plan: String?, now: Date
    ) async throws -> PortalAccount {
        try await transaction { connection in
            let consumer = ConsumerConfig.portalNamespace + email
            let taken = try await Self.exists(
                connection,
                "SELECT 1 FROM portal_accounts WHERE email = \(email) UNION ALL SELECT 1 FROM consumers WHERE name = \(consumer)",
                logger: self.logger)
            guard !taken else { throw PortalStoreError.accountExists }
            try await connection.query(
                """
                INSERT INTO consumers (name, groups, plan, scopes, password_hash, created)
                VALUES (\(consumer), 'portal', \(plan), '', NULL, \(now.timeIntervalSince1970))
                """, logger: self.logger)
            var id: Int64 = 0
            for try await value in try await connection.query(
                """
                INSERT INTO portal_accounts (email, consumer, password_hash, created)
                VALUES (\(email), \(consumer), \(passwordHash), \(now.timeIntervalSince1970)) RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = value
            }
            return PortalAccount(id: id, email: email, consumer: consumer, passwordHash: passwordHash, created: now)
        }
    }

    package func account(email: String) async throws -> PortalAccount? {
        try await rows("SELECT * FROM portal_accounts WHERE email = \(email)", Self.account).first
    }

    package func createSession(digest: [UInt8], account: Int64, csrf: String, expires: Date, now: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                "DELETE FROM portal_sessions WHERE expires <= \(now.timeIntervalSince1970)", logger: self.logger)
            try await connection.query(
                """
                INSERT INTO portal_sessions (digest, account, csrf, created, expires)
                VALUES (\(ByteBuffer(bytes: digest)), \(account), \(csrf), \(now.timeIntervalSince1970), \(expires.timeIntervalSince1970))
                """, logger: self.logger)
        }
    }

    package func session(digest: [UInt8], now: Date) async throws -> PortalSession? {
        try await rows(
            """
            SELECT s.csrf, s.expires AS session_expires, a.* FROM portal_sessions s JOIN portal_accounts a ON a.id = s.account
            WHERE s.digest = \(ByteBuffer(bytes: digest)) AND s.expires > \(now.timeIntervalSince1970)
            """
        ) { row in
            PortalSession(
                account: try Self.account(row), csrf: try row.text("csrf"), expires: try row.date("session_expires"))
        }.first
    }

    package func deleteSession(digest: [UInt8]) async throws {
        try await query("DELETE FROM portal_sessions WHERE digest = \(ByteBuffer(bytes: digest))")
    }

    package func createApp(
        account: Int64, name: String, description: String, active: Bool, now: Date
    ) async throws -> PortalApp {
        try await transaction { connection in
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM portal_apps WHERE account = \(account) AND name = \(name)",
                    logger: self.logger) == false
            else { throw PortalStoreError.appExists }
            let status: PortalApp.Status = active ? .active : .pending
            var id: Int64 = 0
            for try await value in try await connection.query(
                """
                INSERT INTO portal_apps (account, name, description, status, created, decided)
                VALUES (\(account), \(name), \(description), \(status.rawValue), \(now.timeIntervalSince1970), \(active ? now.timeIntervalSince1970 : nil))
                RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = value
            }
            guard let app = try await Self.app(connection, id: id, logger: self.logger) else {
                throw PortalStoreError.noSuchApp
            }
            return app
        }
    }

    package func apps(account: Int64?, status: PortalApp.Status?) async throws -> [PortalApp] {
        try await rows(
            """
            SELECT p.*, a.email, a.consumer FROM portal_apps p JOIN portal_accounts a ON a.id = p.account
            WHERE (\(account)::BIGINT IS NULL OR p.account = \(account)) AND (\(status?.rawValue)::TEXT IS NULL OR p.status = \(status?.rawValue))
            ORDER BY p.id
            """, Self.app)
    }

    package func app(id: Int64) async throws -> PortalApp? {
        try await rows(Self.appQuery(id: id), Self.app).first
    }

    package func decideApp(id: Int64, approve: Bool, now: Date) async throws -> PortalApp {
        try await transaction { connection in
            guard let app = try await Self.app(connection, id: id, logger: self.logger, locking: true) else {
                throw PortalStoreError.noSuchApp
            }
            let next = try app.status.decided(approve: approve)
            try await connection.query(
                "UPDATE portal_apps SET status = \(next.rawValue), decided = \(now.timeIntervalSince1970) WHERE id = \(id)",
                logger: self.logger)
            if next == .revoked {
                try await connection.query(
                    "UPDATE api_keys SET revoked = \(now.timeIntervalSince1970) WHERE app = \(id) AND revoked IS NULL",
                    logger: self.logger)
            }
            guard let decided = try await Self.app(connection, id: id, logger: self.logger) else {
                throw PortalStoreError.noSuchApp
            }
            return decided
        }
    }

    package func createAppKey(app id: Int64, account: Int64, now: Date) async throws -> CreatedKey {
        try await transaction { connection in
            let app = try await Self.ownedActiveApp(connection, id: id, account: account, logger: self.logger)
            return try await Self.insertKey(
                connection, consumer: app.consumer, expires: nil, now: now, app: id, logger: self.logger)
        }
    }

    package func appKeys(app id: Int64, account: Int64) async throws -> [StoredKey] {
        guard try await self.app(id: id)?.account == account else { throw PortalStoreError.noSuchApp }
        return try await rows("SELECT * FROM api_keys WHERE app = \(id) ORDER BY id DESC", Self.key)
    }

    package func revokeAppKey(_ key: Int64, app id: Int64, account: Int64, now: Date) async throws {
        try await transaction { connection in
            _ = try await Self.ownedApp(connection, id: id, account: account, logger: self.logger)
            let revoked = try await Self.returnsRows(
                connection,
                "UPDATE api_keys SET revoked = \(now.timeIntervalSince1970) WHERE id = \(key) AND app = \(id) AND revoked IS NULL RETURNING id",
                logger: self.logger)
            guard revoked else { throw ConsumerStoreError.noSuchKey(key) }
        }
    }

    package func rotateAppKey(
        _ key: Int64, app id: Int64, account: Int64, grace: TimeInterval, now: Date
    ) async throws -> CreatedKey {
        try await transaction { connection in
            let app = try await Self.ownedActiveApp(connection, id: id, account: account, logger: self.logger)
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM api_keys WHERE id = \(key) AND app = \(id)", logger: self.logger)
            else {
                throw ConsumerStoreError.noSuchKey(key)
            }
            return try await Self.rotate(
                connection, id: key, consumer: app.consumer, app: id, grace: grace, now: now, logger: self.logger)
        }
    }

    private static func ownedApp(
        _ connection: PostgresConnection, id: Int64, account: Int64, logger: Logger
    ) async throws -> PortalApp {
        guard let app = try await app(connection, id: id, logger: logger), app.account == account else {
            throw PortalStoreError.noSuchApp
        }
        return app
    }

    private static func ownedActiveApp(
        _ connection: PostgresConnection, id: Int64, account: Int64, logger: Logger
    ) async throws -> PortalApp {
        let app = try await ownedApp(connection, id: id, account: account, logger: logger)
        guard app.status == .active else { throw PortalStoreError.appNotActive(app.status) }
        return app
    }

    private static func appQuery(id: Int64, locking: Bool = false) -> PostgresQuery {
        locking
            ? "SELECT p.*, a.email, a.consumer FROM portal_apps p JOIN portal_accounts a ON a.id = p.account WHERE p.id = \(id) FOR UPDATE OF p"
            : "SELECT p.*, a.email, a.consumer FROM portal_apps p JOIN portal_accounts a ON a.id = p.account WHERE p.id = \(id)"
    }

    private static func app(
        _ connection: PostgresConnection, id: Int64, logger: Logger, locking: Bool = false
    ) async throws -> PortalApp? {
        var found: PortalApp?
        for try await row in try await connection.query(appQuery(id: id, locking: locking), logger: logger) {
            found = try app(row.makeRandomAccess())
        }
        return found
    }

    private static func app(_ row: PostgresRandomAccessRow) throws -> PortalApp {
        PortalApp(
            id: try row.int64("id"), account: try row.int64("account"), owner: try row.text("email"),
            consumer: try row.text("consumer"),
            name: try row.text("name"), description: try row.text("description"),
            status: PortalApp.Status(rawValue: try row.text("status")) ?? .revoked, created: try row.date("created"),
            decided: try row.optionalDate("decided"))
    }

    private static func account(_ row: PostgresRandomAccessRow) throws -> PortalAccount {
        PortalAccount(
            id: try row.int64("id"), email: try row.text("email"), consumer: try row.text("consumer"),
            passwordHash: try row.text("password_hash"), created: try row.date("created"))
    }
}
