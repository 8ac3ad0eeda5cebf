import Foundation
import GRDB
import PorticoConfig

/// Runtime consumers and API keys. Keys are stored as SHA-256 digests with a visible prefix.
extension SQLiteStore {
    package func createConsumer(_ consumer: StoredConsumer) throws {
        try database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM consumers WHERE name = ?", arguments: [consumer.name]) == true
            {
                throw ConsumerStoreError.consumerExists(consumer.name)
            }
            try db.execute(
                sql:
                    "INSERT INTO consumers (name, groups, plan, scopes, password_hash, created) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    consumer.name, consumer.groups.joined(separator: ","), consumer.plan,
                    consumer.scopes.joined(separator: " "),
                    consumer.passwordHash, consumer.created.timeIntervalSince1970,
                ])
        }
    }

    package func consumers() throws -> [StoredConsumer] {
        try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM consumers ORDER BY name").map(Self.consumer)
        }
    }

    package func consumer(named name: String) throws -> StoredConsumer? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM consumers WHERE name = ?", arguments: [name]).map(Self.consumer)
        }
    }

    /// Deletes a runtime consumer and all its keys.
    package func deleteConsumer(named name: String) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM consumers WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { throw ConsumerStoreError.noSuchConsumer(name) }
            try db.execute(sql: "DELETE FROM api_keys WHERE consumer = ?", arguments: [name])
        }
    }

    /// Sets (or with nil, removes) a runtime consumer's password hash.
    package func setPasswordHash(_ hash: String?, forConsumer name: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE consumers SET password_hash = ? WHERE name = ?", arguments: [hash, name])
            guard db.changesCount > 0 else { throw ConsumerStoreError.noSuchConsumer(name) }
        }
    }

    /// Creates a key for `consumer` and returns it; the key itself is not kept.
    ///
    /// The caller checks that the consumer exists: it may be declared in the config rather than here.
    package func createKey(forConsumer consumer: String, expires: Date?, now: Date = Date()) throws -> CreatedKey {
        try database.write { db in try Self.insertKey(db, consumer: consumer, expires: expires, now: now) }
    }

    static func insertKey(_ db: Database, consumer: String, expires: Date?, now: Date) throws -> CreatedKey {
        let key = APIKey.generate()
        let digest = APIKey.digest(key)
        let prefix = APIKey.visiblePrefix(key)
        try db.execute(
            sql: "INSERT INTO api_keys (consumer, prefix, digest, created, expires) VALUES (?, ?, ?, ?, ?)",
            arguments: [consumer, prefix, Data(digest), now.timeIntervalSince1970, expires?.timeIntervalSince1970])
        let record = StoredKey(
            id: db.lastInsertedRowID, consumer: consumer, prefix: prefix, digest: digest, created: now, expires: expires
        )
        return CreatedKey(key: key, record: record)
    }

    /// The consumer's keys, newest first, revoked ones included.
    package func keys(ofConsumer consumer: String) throws -> [StoredKey] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM api_keys WHERE consumer = ? ORDER BY id DESC", arguments: [consumer]
            )
            .map(Self.key)
        }
    }

    /// Revokes a key at once.
    package func revokeKey(id: Int64, ofConsumer consumer: String, now: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked = ? WHERE id = ? AND consumer = ? AND revoked IS NULL",
                arguments: [now.timeIntervalSince1970, id, consumer])
            guard db.changesCount > 0 else { throw ConsumerStoreError.noSuchKey(id) }
        }
    }

    /// Replaces a key with a new one. The old key keeps working for `grace`, then expires.
    ///
    /// The new key expires after the same lifetime the old one had, if it had one.
    package func rotateKey(
        id: Int64, ofConsumer consumer: String, grace: TimeInterval, now: Date = Date()
    ) throws -> CreatedKey {
        try database.write { db in
            guard
                let old = try Row.fetchOne(
                    db, sql: "SELECT * FROM api_keys WHERE id = ? AND consumer = ?", arguments: [id, consumer]
                ).map(Self.key), old.isActive(at: now)
            else { throw ConsumerStoreError.noSuchKey(id) }
            let lifetime = old.expires.map { $0.timeIntervalSince(old.created) }
            let created = try Self.insertKey(
                db, consumer: consumer, expires: lifetime.map { now.addingTimeInterval($0) }, now: now)
            let graceEnd = now.addingTimeInterval(grace)
            let expires = old.expires.map { min($0, graceEnd) } ?? graceEnd
            try db.execute(
                sql: "UPDATE api_keys SET expires = ?, replaced_by = ? WHERE id = ?",
                arguments: [expires.timeIntervalSince1970, created.record.id, id])
            return created
        }
    }

    /// Records when keys were last used; the gateway batches these.
    package func recordKeyUse(_ uses: [Int64: Date]) throws {
        guard !uses.isEmpty else { return }
        try database.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE api_keys SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?")
            for (id, time) in uses { try statement.execute(arguments: [time.timeIntervalSince1970, id]) }
        }
    }

    /// The counter every credential change bumps.
    package func authGeneration() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT value FROM auth_generation WHERE id = 1") ?? 0 }
    }

    /// Runtime consumers and every key not revoked, read in one transaction with the generation.
    package func credentials() throws -> StoredCredentials {
        try database.read { db in
            let generation = try Int.fetchOne(db, sql: "SELECT value FROM auth_generation WHERE id = 1") ?? 0
            let consumers = try Row.fetchAll(db, sql: "SELECT * FROM consumers").map(Self.consumer)
            let keys = try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE revoked IS NULL").map(Self.key)
            return StoredCredentials(generation: generation, consumers: consumers, keys: keys)
        }
    }

    static func consumer(_ row: Row) -> StoredConsumer {
        StoredConsumer(
            name: row["name"],
            groups: (row["groups"] as String).split(separator: ",").map(String.init),
            plan: row["plan"],
            scopes: (row["scopes"] as String).split(separator: " ").map(String.init),
            passwordHash: row["password_hash"],
            created: Date(timeIntervalSince1970: row["created"]))
    }

    static func key(_ row: Row) -> StoredKey {
        StoredKey(
            id: row["id"],
            consumer: row["consumer"],
            prefix: row["prefix"],
            digest: Array(row["digest"] as Data),
            created: Date(timeIntervalSince1970: row["created"]),
            expires: (row["expires"] as Double?).map(Date.init(timeIntervalSince1970:)),
            revoked: (row["revoked"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastUsed: (row["last_used"] as Double?).map(Date.init(timeIntervalSince1970:)),
            replacedBy: row["replaced_by"])
    }
}
