import Foundation
import GRDB
import PorticoConfig

/// The developer portal's accounts, sessions and apps.
///
/// An account signs in with its email and password (a PBKDF2 hash is kept, never the password) and
/// calls the APIs as its own consumer, `portal:<email>` (v13 moved older accounts there). Apps group that consumer's keys: a
/// key made in the portal belongs to one app, and revoking the app revokes its keys. Sessions are
/// kept as SHA-256 digests of their cookie, so the file holds nothing a browser could replay.
extension SQLiteStore {
    static func registerPortalMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-portal") { db in
            try db.execute(
                sql: """
                    CREATE TABLE portal_accounts (
                        id INTEGER PRIMARY KEY,
                        email TEXT NOT NULL UNIQUE,
                        consumer TEXT NOT NULL UNIQUE,
                        password_hash TEXT NOT NULL,
                        created REAL NOT NULL
                    );
                    CREATE TABLE portal_sessions (
                        digest BLOB PRIMARY KEY,
                        account INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
                        csrf TEXT NOT NULL,
                        created REAL NOT NULL,
                        expires REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE portal_apps (
                        id INTEGER PRIMARY KEY,
                        account INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        status TEXT NOT NULL,
                        created REAL NOT NULL,
                        decided REAL,
                        UNIQUE (account, name)
                    );
                    ALTER TABLE api_keys ADD COLUMN app INTEGER;
                    """)
        }
        migrator.registerMigration("v13-portal-namespace") { db in
            // Accounts made before this named their consumer by the bare email, which a config
            // consumer or a token's claim could also name: move them into the portal's namespace.
            try db.execute(
                sql: """
                    UPDATE api_keys SET consumer = 'portal:' || consumer
                        WHERE consumer IN (SELECT consumer FROM portal_accounts WHERE consumer NOT LIKE 'portal:%');
                    UPDATE consumers SET name = 'portal:' || name
                        WHERE name IN (SELECT consumer FROM portal_accounts WHERE consumer NOT LIKE 'portal:%');
                    UPDATE portal_accounts SET consumer = 'portal:' || consumer WHERE consumer NOT LIKE 'portal:%';
                    """)
        }
    }

    // MARK: Accounts

    /// Creates an account and its consumer in one transaction.
    package func createAccount(
        email: String, passwordHash: String, plan: String?, now: Date = Date()
    ) throws -> PortalAccount {
        try database.write { db in
            // The account's consumer is in the portal's own namespace, which no other consumer can enter.
            let consumer = ConsumerConfig.portalNamespace + email
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM portal_accounts WHERE email = ?", arguments: [email]) == true
                || Bool.fetchOne(db, sql: "SELECT 1 FROM consumers WHERE name = ?", arguments: [consumer]) == true
            {
                throw PortalStoreError.accountExists
            }
            try db.execute(
                sql:
                    "INSERT INTO consumers (name, groups, plan, scopes, password_hash, created) VALUES (?, 'portal', ?, '', NULL, ?)",
                arguments: [consumer, plan, now.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT INTO portal_accounts (email, consumer, password_hash, created) VALUES (?, ?, ?, ?)",
                arguments: [email, consumer, passwordHash, now.timeIntervalSince1970])
            return PortalAccount(
                id: db.lastInsertedRowID, email: email, consumer: consumer, passwordHash: passwordHash, created: now)
        }
    }

    package func account(email: String) throws -> PortalAccount? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM portal_accounts WHERE email = ?", arguments: [email]).map(
                Self.account)
        }
    }

    // MARK: Sessions

    /// Starts a session for `account`; `digest` is the SHA-256 of the cookie's value.
    package func createSession(digest: [UInt8], account: Int64, csrf: String, expires: Date, now: Date = Date()) throws
    {
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM portal_sessions WHERE expires <= ?", arguments: [now.timeIntervalSince1970])
            try db.execute(
                sql: "INSERT INTO portal_sessions (digest, account, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
                arguments: [Data(digest), account, csrf, now.timeIntervalSince1970, expires.timeIntervalSince1970])
        }
    }

    /// The live session with this digest, with its account.
    package func session(digest: [UInt8], now: Date = Date()) throws -> PortalSession? {
        try database.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.csrf, s.expires, a.* FROM portal_sessions s JOIN portal_accounts a ON a.id = s.account
                        WHERE s.digest = ? AND s.expires > ?
                        """,
                    arguments: [Data(digest), now.timeIntervalSince1970])
            else { return nil }
            return PortalSession(
                account: Self.account(row), csrf: row["csrf"], expires: Date(timeIntervalSince1970: row["expires"]))
        }
    }

    package func deleteSession(digest: [UInt8]) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM portal_sessions WHERE digest = ?", arguments: [Data(digest)])
        }
    }

    // MARK: Apps

    /// Creates an app; `active` is false when the portal needs an operator's approval.
    package func createApp(
        account: Int64, name: String, description: String, active: Bool, now: Date = Date()
    ) throws -> PortalApp {
        try database.write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM portal_apps WHERE account = ? AND name = ?", arguments: [account, name]) == true
            {
                throw PortalStoreError.appExists
            }
            let status: PortalApp.Status = active ? .active : .pending
            try db.execute(
                sql:
                    "INSERT INTO portal_apps (account, name, description, status, created, decided) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    account, name, description, status.rawValue, now.timeIntervalSince1970,
                    active ? now.timeIntervalSince1970 : nil,
                ])
            return try Self.app(db, id: db.lastInsertedRowID)!
        }
    }

    /// Apps with their owner's email; one account's, or every app (optionally only those in `status`).
    package func apps(account: Int64? = nil, status: PortalApp.Status? = nil) throws -> [PortalApp] {
        try database.read { db in
            var sql =
                "SELECT p.*, a.email, a.consumer FROM portal_apps p JOIN portal_accounts a ON a.id = p.account WHERE 1"
            var arguments: StatementArguments = []
            if let account {
                sql += " AND p.account = ?"
                arguments += [account]
            }
            if let status {
                sql += " AND p.status = ?"
                arguments += [status.rawValue]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY p.id", arguments: arguments).map(Self.app)
        }
    }

    package func app(id: Int64) throws -> PortalApp? {
        try database.read { db in try Self.app(db, id: id) }
    }

    /// An operator's decision on an app. Approving makes a pending app active; revoking (or
    /// rejecting a pending one) also revokes every key the app has.
    package func decideApp(id: Int64, approve: Bool, now: Date = Date()) throws -> PortalApp {
        try database.write { db in
            guard let app = try Self.app(db, id: id) else { throw PortalStoreError.noSuchApp }
            let next = try app.status.decided(approve: approve)
            try db.execute(
                sql: "UPDATE portal_apps SET status = ?, decided = ? WHERE id = ?",
                arguments: [next.rawValue, now.timeIntervalSince1970, id])
            if next == .revoked {
                try db.execute(
                    sql: "UPDATE api_keys SET revoked = ? WHERE app = ? AND revoked IS NULL",
                    arguments: [now.timeIntervalSince1970, id])
            }
            return try Self.app(db, id: id)!
        }
    }

    /// A new key for an active app of `account`.
    package func createAppKey(app id: Int64, account: Int64, now: Date = Date()) throws -> CreatedKey {
        try database.write { db in
            let app = try Self.ownedActiveApp(db, id: id, account: account)
            let created = try Self.insertKey(db, consumer: app.consumer, expires: nil, now: now)
            try db.execute(sql: "UPDATE api_keys SET app = ? WHERE id = ?", arguments: [id, created.record.id])
            return created
        }
    }

    /// The keys of an app of `account`, newest first.
    package func appKeys(app id: Int64, account: Int64) throws -> [StoredKey] {
        try database.read { db in
            guard try Self.app(db, id: id)?.account == account else { throw PortalStoreError.noSuchApp }
            return try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE app = ? ORDER BY id DESC", arguments: [id])
                .map(Self.key)
        }
    }

    /// Revokes one key of an app of `account`.
    package func revokeAppKey(_ key: Int64, app id: Int64, account: Int64, now: Date = Date()) throws {
        try database.write { db in
            _ = try Self.ownedApp(db, id: id, account: account)
            try db.execute(
                sql: "UPDATE api_keys SET revoked = ? WHERE id = ? AND app = ? AND revoked IS NULL",
                arguments: [now.timeIntervalSince1970, key, id])
            guard db.changesCount > 0 else { throw ConsumerStoreError.noSuchKey(key) }
        }
    }

    /// Replaces a key of an active app of `account`; the old one keeps working for `grace`.
    package func rotateAppKey(
        _ key: Int64, app id: Int64, account: Int64, grace: TimeInterval, now: Date = Date()
    ) throws -> CreatedKey {
        let app = try database.read { db in try Self.ownedActiveApp(db, id: id, account: account) }
        guard
            try database.read({ db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM api_keys WHERE id = ? AND app = ?", arguments: [key, id])
            }) == true
        else { throw ConsumerStoreError.noSuchKey(key) }
        let created = try rotateKey(id: key, ofConsumer: app.consumer, grace: grace, now: now)
        try database.write { db in
            try db.execute(sql: "UPDATE api_keys SET app = ? WHERE id = ?", arguments: [id, created.record.id])
        }
        return created
    }

    private static func ownedApp(_ db: Database, id: Int64, account: Int64) throws -> PortalApp {
        guard let app = try app(db, id: id), app.account == account else { throw PortalStoreError.noSuchApp }
        return app
    }

    private static func ownedActiveApp(_ db: Database, id: Int64, account: Int64) throws -> PortalApp {
        let app = try ownedApp(db, id: id, account: account)
        guard app.status == .active else { throw PortalStoreError.appNotActive(app.status) }
        return app
    }

    private static func app(_ db: Database, id: Int64) throws -> PortalApp? {
        try Row.fetchOne(
            db,
            sql:
                "SELECT p.*, a.email, a.consumer FROM portal_apps p JOIN portal_accounts a ON a.id = p.account WHERE p.id = ?",
            arguments: [id]
        ).map(app)
    }

    private static func app(_ row: Row) -> PortalApp {
        PortalApp(
            id: row["id"], account: row["account"], owner: row["email"], consumer: row["consumer"], name: row["name"],
            description: row["description"], status: PortalApp.Status(rawValue: row["status"]) ?? .revoked,
            created: Date(timeIntervalSince1970: row["created"]),
            decided: (row["decided"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    private static func account(_ row: Row) -> PortalAccount {
        PortalAccount(
            id: row["id"], email: row["email"], consumer: row["consumer"], passwordHash: row["password_hash"],
            created: Date(timeIntervalSince1970: row["created"]))
    }
}

package struct PortalAccount: Sendable {
    package var id: Int64
    package var email: String
    /// The consumer the account's keys authenticate as.
    package var consumer: String
    package var passwordHash: String
    package var created: Date
}

package struct PortalSession: Sendable {
    package var account: PortalAccount
    /// The token every state-changing request of this session must carry.
    package var csrf: String
    package var expires: Date

    package init(account: PortalAccount, csrf: String, expires: Date) {
        self.account = account
        self.csrf = csrf
        self.expires = expires
    }
}

package struct PortalApp: Sendable {
    package enum Status: String, Sendable {
        case pending, active, rejected, revoked

        /// Where an operator's decision takes an app: approving makes a pending app active;
        /// refusing rejects a pending one and revokes an active one. Anything else is refused.
        func decided(approve: Bool) throws -> Status {
            switch (approve, self) {
            case (true, .pending): return .active
            case (false, .pending): return .rejected
            case (false, .active): return .revoked
            default: throw PortalStoreError.notPending(self)
            }
        }
    }

    package var id: Int64
    package var account: Int64
    /// The owner's email.
    package var owner: String
    package var consumer: String
    package var name: String
    package var description: String
    package var status: Status
    package var created: Date
    /// When an operator approved, rejected or revoked it (or when it was created, if no approval was needed).
    package var decided: Date?
}

package enum PortalStoreError: Error, Equatable {
    case accountExists
    case appExists
    case noSuchApp
    case appNotActive(PortalApp.Status)
    case notPending(PortalApp.Status)
}
