import Foundation
import NIOCore
import PorticoConfig
import PostgresNIO

/// Runtime consumers and API keys, as `SQLiteStore+Consumers` keeps them.
extension PostgresStore {
    package func createConsumer(_ consumer: StoredConsumer) async throws {
        try await transaction { connection in
            guard
                try await Self.exists(
                    connection, "SELECT 1 FROM consumers WHERE name = \(consumer.name)", logger: self.logger) == false
            else {
                throw ConsumerStoreError.consumerExists(consumer.name)
            }
            try await connection.query(
                """
                INSERT INTO consumers (name, groups, plan, scopes, password_hash, created)
                VALUES (\(consumer.name), \(consumer.groups.joined(separator: ",")), \(consumer.plan), \(consumer.scopes.joined(separator: " ")),
                        \(consumer.passwordHash), \(consumer.created.timeIntervalSince1970))
                """, logger: self.logger)
        }
    }

    package func consumers() async throws -> [StoredConsumer] {
        try await rows("SELECT * FROM consumers ORDER BY name", Self.consumer)
    }

    package func consumer(named name: String) async throws -> StoredConsumer? {
        try await rows("SELECT * FROM consumers WHERE name = \(name)", Self.consumer).first
    }

    package func deleteConsumer(named name: String) async throws {
        try await transaction { connection in
            let deleted = try await Self.returnsRows(
                connection, "DELETE FROM consumers WHERE name = \(name) RETURNING name", logger: self.logger)
            guard deleted else { throw ConsumerStoreError.noSuchConsumer(name) }
            try await connection.query("DELETE FROM api_keys WHERE consumer = \(name)", logger: self.logger)
        }
    }

    package func setPasswordHash(_ hash: String?, forConsumer name: String) async throws {
        let updated = try await rows("UPDATE consumers SET password_hash = \(hash) WHERE name = \(name) RETURNING name")
        { try $0.text("name") }
        guard !updated.isEmpty else { throw ConsumerStoreError.noSuchConsumer(name) }
    }

    package func createKey(forConsumer consumer: String, expires: Date?, now: Date) async throws -> CreatedKey {
        try await transaction { connection in
            try await Self.insertKey(connection, consumer: consumer, expires: expires, now: now, logger: self.logger)
        }
    }

    static func insertKey(
        _ connection: PostgresConnection, consumer: String, expires: Date?, now: Date, app: Int64? = nil, logger: Logger
    ) async throws -> CreatedKey {
        let key = APIKey.generate()
        let digest = APIKey.digest(key)
        let prefix = APIKey.visiblePrefix(key)
        var id: Int64 = 0
        for try await value in try await connection.query(
            """
            INSERT INTO api_keys (consumer, prefix, digest, created, expires, app)
            VALUES (\(consumer), \(prefix), \(ByteBuffer(bytes: digest)), \(now.timeIntervalSince1970), \(expires?.timeIntervalSince1970), \(app))
            RETURNING id
            """, logger: logger
        ).decode(Int64.self) {
            id = value
        }
        return CreatedKey(
            key: key,
            record: StoredKey(
                id: id, consumer: consumer, prefix: prefix, digest: digest, created: now, expires: expires))
    }

    package func keys(ofConsumer consumer: String) async throws -> [StoredKey] {
        try await rows("SELECT * FROM api_keys WHERE consumer = \(consumer) ORDER BY id DESC", Self.key)
    }

    package func revokeKey(id: Int64, ofConsumer consumer: String, now: Date) async throws {
        let revoked = try await rows(
            "UPDATE api_keys SET revoked = \(now.timeIntervalSince1970) WHERE id = \(id) AND consumer = \(consumer) AND revoked IS NULL RETURNING id"
        ) { try $0.int64("id") }
        guard !revoked.isEmpty else { throw ConsumerStoreError.noSuchKey(id) }
    }

    package func rotateKey(
        id: Int64, ofConsumer consumer: String, grace: TimeInterval, now: Date
    ) async throws -> CreatedKey {
        try await transaction { connection in
            try await Self.rotate(
                connection, id: id, consumer: consumer, app: nil, grace: grace, now: now, logger: self.logger)
        }
    }

    /// Replaces key `id` (of `app`, when given) within a transaction; see `SQLiteStore.rotateKey`.
    static func rotate(
        _ connection: PostgresConnection, id: Int64, consumer: String, app: Int64?, grace: TimeInterval, now: Date,
        logger: Logger
    ) async throws -> CreatedKey {
        var old: StoredKey?
        for try await row in try await connection.query(
            "SELECT * FROM api_keys WHERE id = \(id) AND consumer = \(consumer) FOR UPDATE", logger: logger)
        {
            old = try key(row.makeRandomAccess())
        }
        guard let old, old.isActive(at: now) else { throw ConsumerStoreError.noSuchKey(id) }
        let lifetime = old.expires.map { $0.timeIntervalSince(old.created) }
        let created = try await insertKey(
            connection, consumer: consumer, expires: lifetime.map { now.addingTimeInterval($0) }, now: now, app: app,
            logger: logger)
        let graceEnd = now.addingTimeInterval(grace)
        let expires = old.expires.map { min($0, graceEnd) } ?? graceEnd
        try await connection.query(
            "UPDATE api_keys SET expires = \(expires.timeIntervalSince1970), replaced_by = \(created.record.id) WHERE id = \(id)",
            logger: logger)
        return created
    }

    package func recordKeyUse(_ uses: [Int64: Date]) async throws {
        guard !uses.isEmpty else { return }
        let ids = uses.keys.sorted()
        let times = ids.map { uses[$0]!.timeIntervalSince1970 }
        try await query(
            """
            UPDATE api_keys SET last_used = GREATEST(COALESCE(api_keys.last_used, 0), u.time)
            FROM unnest(\(ids)::BIGINT[], \(times)::DOUBLE PRECISION[]) AS u(id, time) WHERE api_keys.id = u.id
            """)
    }

    package func authGeneration() async throws -> Int {
        try await rows("SELECT value FROM auth_generation WHERE id = 1") { try $0.int("value") }.first ?? 0
    }

    package func credentials() async throws -> StoredCredentials {
        try await transaction { connection in
            // One snapshot of all three (repeatable read), as SQLite's read transaction gives.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: self.logger)
            var generation = 0
            for try await value in try await connection.query(
                "SELECT value FROM auth_generation WHERE id = 1", logger: self.logger
            ).decode(Int.self) {
                generation = value
            }
            var consumers: [StoredConsumer] = []
            for try await row in try await connection.query("SELECT * FROM consumers", logger: self.logger) {
                consumers.append(try Self.consumer(row.makeRandomAccess()))
            }
            var keys: [StoredKey] = []
            for try await row in try await connection.query(
                "SELECT * FROM api_keys WHERE revoked IS NULL", logger: self.logger)
            {
                keys.append(try Self.key(row.makeRandomAccess()))
            }
            return StoredCredentials(generation: generation, consumers: consumers, keys: keys)
        }
    }

    static func exists(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await returnsRows(connection, query, logger: logger)
    }

    static func returnsRows(
        _ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger
    ) async throws -> Bool {
        var found = false
        for try await _ in try await connection.query(query, logger: logger) { found = true }
        return found
    }

    static func consumer(_ row: PostgresRandomAccessRow) throws -> StoredConsumer {
        StoredConsumer(
            name: try row.text("name"),
            groups: try row.text("groups").split(separator: ",").map(String.init),
            plan: try row.optionalText("plan"),
            scopes: try row.text("scopes").split(separator: " ").map(String.init),
            passwordHash: try row.optionalText("password_hash"),
            created: try row.date("created"))
    }

    static func key(_ row: PostgresRandomAccessRow) throws -> StoredKey {
        StoredKey(
            id: try row.int64("id"), consumer: try row.text("consumer"), prefix: try row.text("prefix"),
            digest: try row.bytes("digest"),
            created: try row.date("created"), expires: try row.optionalDate("expires"),
            revoked: try row.optionalDate("revoked"),
            lastUsed: try row.optionalDate("last_used"), replacedBy: try row.optionalInt64("replaced_by"))
    }
}
