import Foundation
import PorticoConfig

/// A consumer created at runtime, through the admin API or the CLI.
public struct StoredConsumer: Sendable, Hashable {
    public var name: String
    public var groups: [String]
    public var plan: String?
    public var scopes: [String]
    /// The PBKDF2 hash of the consumer's password (`PasswordHash`'s text form), if it has one.
    public var passwordHash: String?
    public var created: Date

    public init(
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
public struct StoredKey: Sendable, Hashable {
    public var id: Int64
    public var consumer: String
    /// The key's first characters, to tell keys apart in a list.
    public var prefix: String
    /// The SHA-256 digest of the key.
    public var digest: [UInt8]
    public var created: Date
    public var expires: Date?
    public var revoked: Date?
    public var lastUsed: Date?
    /// The key that replaced this one in a rotation.
    public var replacedBy: Int64?

    /// Usable at `now`: not revoked and not expired.
    public func isActive(at now: Date) -> Bool {
        revoked == nil && (expires.map { $0 > now } ?? true)
    }
}

/// A key just created: the only time the key itself exists outside the caller's hands.
public struct CreatedKey: Sendable {
    public var key: String
    public var record: StoredKey

    /// The key's JSON (`StoredKey.json`) with the key itself: shown this once.
    public var json: String {
        String(record.json().dropLast()) + ",\"key\":\(JSONText.quote(key))}"
    }
}

extension StoredKey {
    /// `revoked`, `expired` (at `now`) or `active`.
    public func status(at now: Date) -> String {
        revoked != nil ? "revoked" : (expires.map { $0 <= now } == true ? "expired" : "active")
    }

    /// The key as the admin API and the portal list it: everything but the key. `status` is
    /// `active`, `expired` (at `now`) or `revoked`.
    public func json(now: Date = Date()) -> String {
        func time(_ date: Date?) -> String { date.map { JSONText.quote(CallRecord.timestamp($0)) } ?? "null" }
        let status = status(at: now)
        var text = "{\"id\":\(id),\"prefix\":\(JSONText.quote(prefix)),\"status\":\"\(status)\""
        text += ",\"created\":\(time(created)),\"expires\":\(time(expires)),\"revoked\":\(time(revoked))"
        text += ",\"last_used\":\(time(lastUsed)),\"replaced_by\":" + (replacedBy.map { String($0) } ?? "null") + "}"
        return text
    }
}

/// What the gateway loads to check credentials: runtime consumers and their usable keys.
public struct StoredCredentials: Sendable {
    public var generation: Int
    public var consumers: [StoredConsumer]
    /// Keys not revoked; expired ones are included so that their expiry is checked per request.
    public var keys: [StoredKey]
}

/// Why a consumer or key operation was refused.
public enum ConsumerStoreError: Error, Equatable, CustomStringConvertible {
    case consumerExists(String)
    case noSuchConsumer(String)
    case noSuchKey(Int64)

    public var description: String {
        switch self {
        case .consumerExists(let name): return "consumer '\(name)' already exists"
        case .noSuchConsumer(let name): return "no consumer named '\(name)'"
        case .noSuchKey(let id): return "no key \(id) for this consumer"
        }
    }
}
