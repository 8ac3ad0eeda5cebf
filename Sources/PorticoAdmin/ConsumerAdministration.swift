internal import Foundation
import PorticoConfig
import PorticoGateway
import PorticoStore

/// Creating and managing consumers, keys and passwords: what the admin API and `portico
/// consumers`/`portico keys` both do, with the same checks.
///
/// Consumers declared in the config are read-only here (change the config for them), but keys
/// can be created for them; runtime consumers live in the store.
package struct ConsumerAdministration: Sendable {
    package let store: any DataStore
    /// The consumers the config declares.
    package let declared: [ConsumerConfig]

    package init(store: any DataStore, declared: [ConsumerConfig]) {
        self.store = store
        self.declared = declared
    }

    /// A consumer as listed: where it comes from, its groups, plan and scopes.
    package struct Listing: Sendable {
        package var name: String
        package var groups: [String]
        package var plan: String?
        package var scopes: [String]
        package var source: String
        package var hasPassword: Bool

        package var json: String {
            var text = "{\"name\":\(JSONText.quote(name)),\"source\":\(JSONText.quote(source))"
            text += ",\"groups\":[" + groups.map(JSONText.quote).joined(separator: ",") + "]"
            text += ",\"plan\":" + (plan.map(JSONText.quote) ?? "null")
            text += ",\"scopes\":[" + scopes.map(JSONText.quote).joined(separator: ",") + "]"
            text += ",\"has_password\":\(hasPassword)}"
            return text
        }
    }

    package func list() async throws -> [Listing] {
        let fromConfig = declared.map {
            Listing(
                name: $0.name, groups: $0.groups, plan: $0.plan, scopes: $0.scopes, source: "config",
                hasPassword: $0.passwordHash != nil)
        }
        let fromStore = try await store.consumers().map {
            Listing(
                name: $0.name, groups: $0.groups, plan: $0.plan, scopes: $0.scopes, source: "store",
                hasPassword: $0.passwordHash != nil)
        }
        return fromConfig + fromStore
    }

    package func find(_ name: String) async throws -> Listing? {
        try await list().first { $0.name == name }
    }

    /// Creates a runtime consumer, with a password if one is given.
    package func create(
        name: String, groups: [String], plan: String?, scopes: [String], password: String?
    ) async throws -> Listing {
        guard ConsumerConfig.isValidName(name) else {
            throw GatewayError.badRequest("A consumer name may hold letters, digits, '.', '_', '-', '@' and '+' only.")
        }
        if declared.contains(where: { $0.name == name }) {
            throw GatewayError.conflict("Consumer '\(name)' is declared in the config.")
        }
        let hash = try password.map { try Self.hash(password: $0) }
        do {
            try await store.createConsumer(
                StoredConsumer(name: name, groups: groups, plan: plan, scopes: scopes, passwordHash: hash))
        } catch ConsumerStoreError.consumerExists {
            throw GatewayError.conflict("Consumer '\(name)' already exists.")
        }
        return Listing(
            name: name, groups: groups, plan: plan, scopes: scopes, source: "store", hasPassword: hash != nil)
    }

    package func delete(_ name: String) async throws {
        if declared.contains(where: { $0.name == name }) {
            throw GatewayError.conflict("Consumer '\(name)' is declared in the config; remove it there.")
        }
        do { try await store.deleteConsumer(named: name) } catch ConsumerStoreError.noSuchConsumer {
            throw GatewayError.notFound("No consumer named '\(name)'.")
        }
    }

    package func setPassword(_ password: String, for name: String) async throws {
        if declared.contains(where: { $0.name == name }) {
            throw GatewayError.conflict("Consumer '\(name)' is declared in the config; set its password-hash there.")
        }
        let hash = try Self.hash(password: password)
        do { try await store.setPasswordHash(hash, forConsumer: name) } catch ConsumerStoreError.noSuchConsumer {
            throw GatewayError.notFound("No consumer named '\(name)'.")
        }
    }

    static func hash(password: String) throws -> String {
        guard password.count >= 8 else { throw GatewayError.badRequest("A password must be at least 8 characters.") }
        return try PasswordHash(password: password).description
    }

    /// Creates a key; `expiresIn` is a duration like `90d`.
    package func createKey(for name: String, expiresIn: String?) async throws -> CreatedKey {
        try await requireConsumer(name)
        var expires: Date?
        if let expiresIn {
            guard let duration = ConfigDuration(parsing: expiresIn), duration.milliseconds > 0 else {
                throw GatewayError.badRequest("expires must be a duration like 90d, 12h or 30m.")
            }
            expires = Date().addingTimeInterval(duration.seconds)
        }
        return try await store.createKey(forConsumer: name, expires: expires)
    }

    package func keys(of name: String) async throws -> [StoredKey] {
        try await requireConsumer(name)
        return try await store.keys(ofConsumer: name)
    }

    package func revokeKey(_ id: Int64, of name: String) async throws {
        try await requireConsumer(name)
        do { try await store.revokeKey(id: id, ofConsumer: name) } catch ConsumerStoreError.noSuchKey {
            throw GatewayError.notFound("Consumer '\(name)' has no active key \(id).")
        }
    }

    /// Replaces a key; the old one keeps working for `grace` (a duration like `24h`, or `0s`).
    package func rotateKey(_ id: Int64, of name: String, grace: String) async throws -> CreatedKey {
        try await requireConsumer(name)
        guard let duration = ConfigDuration(parsing: grace) else {
            throw GatewayError.badRequest("grace must be a duration like 24h, 30m or 0s.")
        }
        do {
            return try await store.rotateKey(id: id, ofConsumer: name, grace: duration.seconds)
        } catch ConsumerStoreError.noSuchKey {
            throw GatewayError.notFound("Consumer '\(name)' has no active key \(id).")
        }
    }

    private func requireConsumer(_ name: String) async throws {
        guard try await find(name) != nil else { throw GatewayError.notFound("No consumer named '\(name)'.") }
    }
}
