import Foundation
import PorticoConfig

/// A consumer created at runtime, through the admin API or the CLI.
package struct StoredConsumer: Sendable, Hashable {
    package var name: String
    package var groups: [String]
    package var plan: String?
    package var scopes: [String]
    /// The PBKDF2 hash of the consumer's password (`PasswordHash`'s text form), if it has one.
    package var passwordHash: String?
    package var created: Date

    package init(
        name: String, groups: [String] = [], plan: String? = nil, scopes: [String] = [], passwordHash: String? = nil,
        created: Date = Date()
    ) {
        self.name = name
        self.groups = groups
        self.plan = plan
        self.scopes = scopes
        self.passwordHash = passwordHash
        self.created = created
    }
}

/// An API key as stored: its digest and visible prefix, never the key.
package struct StoredKey: Sendable, Hashable {
    package var id: Int64
    package var consumer: String
    /// The key's first characters, to tell keys apart in a list.
    package var prefix: String
    /// The SHA-256 digest of the key.
    package var digest: [UInt8]
    package var created: Date
    package var expires: Date?
    package var revoked: Date?
    package var lastUsed: Date?
    /// The key that replaced this one in a rotation.
    package var replacedBy: Int64?

    /// Usable at `now`: not revoked and not expired.
    package func isActive(at now: Date) -> Bool {
        revoked == nil && (expires.map { $0 > now } ?? true)
    }
}

/// A key just created: the only time the key itself exists outside the caller's hands.
package struct CreatedKey: Sendable {
    package var key: String
    package var record: StoredKey

    /// The key's JSON (`StoredKey.json`) with the key itself: shown this once.
    package var json: String {
        String(record.json().dropLast()) + ",\"key\":\(JSONText.quote(key))}"
    }
}

extension StoredKey {
    /// `revoked`, `expired` (at `now`) or `active`.
    package func status(at now: Date) -> String {
        revoked != nil ? "revoked" : (expires.map { $0 <= now } == true ? "expired" : "active")
    }

    /// The key as the admin API and the portal list it: everything but the key. `status` is
    /// `active`, `expired` (at `now`) or `revoked`.
    package func json(now: Date = Date()) -> String {
        func time(_ date: Date?) -> String { date.map { JSONText.quote(CallRecord.timestamp($0)) } ?? "null" }
        let status = status(at: now)
        var text = "{\"id\":\(id),\"prefix\":\(JSONText.quote(prefix)),\"status\":\"\(status)\""
        text += ",\"created\":\(time(created)),\"expires\":\(time(expires)),\"revoked\":\(time(revoked))"
        text += ",\"last_used\":\(time(lastUsed)),\"replaced_by\":" + (replacedBy.map { String($0) } ?? "null") + "}"
        return text
    }
}

/// What the gateway loads to check credentials: runtime consumers and their usable keys.
package struct StoredCredentials: Sendable {
    package var generation: Int
    package var consumers: [StoredConsumer]
    /// Keys not revoked; expired ones are included so that their expiry is checked per request.
    package var keys: [StoredKey]
}

/// Why a consumer or key operation was refused.
package enum ConsumerStoreError: Error, Equatable, CustomStringConvertible {
    case consumerExists(String)
    case noSuchConsumer(String)
    case noSuchKey(Int64)

    package var description: String {
        switch self {
        case .consumerExists(let name): return "consumer '\(name)' already exists"
        case .noSuchConsumer(let name): return "no consumer named '\(name)'"
        case .noSuchKey(let id): return "no key \(id) for this consumer"
        }
    }
}
