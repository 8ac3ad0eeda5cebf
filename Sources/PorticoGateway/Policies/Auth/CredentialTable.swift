import Foundation
import PorticoConfig
import PorticoStore

/// Consumers and key digests in memory, looked up on every request.
///
/// Keys are bucketed by the first eight bytes of their digest and compared in full in constant
/// time, so a lookup costs one SHA-256 and a dictionary probe.
final class CredentialTable: Sendable {
    struct Key: Sendable {
        /// The store's id, for last-used times; nil for keys from the config.
        let id: Int64?
        let consumer: String
        let digest: [UInt8]
        let expires: Date?
        /// How limits `by: key` name it: the store id, or the start of the digest for config keys.
        let label: String
        /// What the call log shows: the stored visible prefix, or the start of the digest.
        let prefix: String

        init(id: Int64?, consumer: String, digest: [UInt8], expires: Date?, prefix: String? = nil) {
            self.id = id
            self.consumer = consumer
            self.digest = digest
            self.expires = expires
            self.label = id.map { "key:\($0)" } ?? "key:" + APIKey.hex(Array(digest.prefix(8)))
            self.prefix = prefix ?? "sha256:" + APIKey.hex(Array(digest.prefix(4)))
        }
    }

    struct Consumer: Sendable {
        let name: String
        let groups: [String]
        let plan: String?
        let scopes: Set<String>
        let password: PasswordHash?
    }

    let keys: [UInt64: [Key]]
    let consumers: [String: Consumer]
    /// The store's credential generation this table was read at.
    let generation: Int

    init(keys: [Key], consumers: [Consumer], generation: Int = 0) {
        var buckets: [UInt64: [Key]] = [:]
        for key in keys { buckets[Self.bucket(key.digest), default: []].append(key) }
        self.keys = buckets
        self.consumers = Dictionary(consumers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.generation = generation
    }

    static let empty = CredentialTable(keys: [], consumers: [])

    /// The config's consumers and their keys.
    convenience init(config: [ConsumerConfig]) {
        let keys = config.flatMap { consumer in
            consumer.keyDigests.compactMap { hex in
                APIKey.bytes(fromHex: hex).map { Key(id: nil, consumer: consumer.name, digest: $0, expires: nil) }
            }
        }
        let consumers = config.map { consumer in
            Consumer(
                name: consumer.name, groups: consumer.groups, plan: consumer.plan, scopes: Set(consumer.scopes),
                password: consumer.passwordHash.flatMap(PasswordHash.init(parsing:)))
        }
        self.init(keys: keys, consumers: consumers)
    }

    /// The store's runtime consumers and keys.
    convenience init(stored: StoredCredentials) {
        let keys = stored.keys.map {
            Key(id: $0.id, consumer: $0.consumer, digest: $0.digest, expires: $0.expires, prefix: $0.prefix)
        }
        let consumers = stored.consumers.map { consumer in
            Consumer(
                name: consumer.name, groups: consumer.groups, plan: consumer.plan, scopes: Set(consumer.scopes),
                password: consumer.passwordHash.flatMap(PasswordHash.init(parsing:)))
        }
        self.init(keys: keys, consumers: consumers, generation: stored.generation)
    }

    /// The key with this digest, if any; every candidate is compared in constant time.
    func key(digest: [UInt8]) -> Key? {
        var found: Key?
        for candidate in keys[Self.bucket(digest)] ?? [] where APIKey.constantTimeEquals(candidate.digest, digest) {
            found = candidate
        }
        return found
    }

    static func bucket(_ digest: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return value
    }
}
