import ArgumentParser
import Foundation
import Logging
import PorticoAdmin
import PorticoApp
import PorticoConfig
import PorticoStore

/// Options every consumer and key command shares: which config names the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The gateway config file (for the store and the declared consumers).")
    var config: String = "config/gateway.yaml"

    /// Runs `body` with the administration of the config's store, opened for it and closed after;
    /// a refusal becomes a usage error.
    func administered<T: Sendable>(_ body: @Sendable (ConsumerAdministration) async throws -> T) async throws -> T {
        let loaded: GatewayConfig
        do {
            loaded = try ConfigLoader().load(file: config)
        } catch {
            throw ValidationError(error.description)
        }
        return try await DataStores.with(loaded.store, logger: Logger(label: "portico.cli")) { store in
            do {
                return try await body(ConsumerAdministration(store: store, declared: loaded.consumers))
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}

/// Reads a password from standard input (its first line), so it never shows in `ps` or the shell history.
func readPassword() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("give the password on standard input, e.g. printf '%s' \"$PASSWORD\" | portico ...")
    }
    return line
}

struct Consumers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete consumers, and set their passwords.",
        discussion:
            "Works on the store named by the config, also while the gateway runs; gateways apply changes within a second.",
        subcommands: [Create.self, List.self, Delete.self, SetPassword.self, HashPassword.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a consumer in the store.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The consumer's name.") var name: String
        @Option(help: "A group the consumer is in (repeat for more).") var group: [String] = []
        @Option(help: "The consumer's plan (for rate limits).") var plan: String?
        @Option(help: "A scope granted to the consumer's keys and password (repeat for more).") var scope: [String] = []
        @Flag(help: "Read a password for basic auth from standard input.") var passwordStdin = false

        func run() async throws {
            let password = passwordStdin ? try readPassword() : nil
            let listing = try await store.administered {
                try await $0.create(name: name, groups: group, plan: plan, scopes: scope, password: password)
            }
            print(listing.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the consumers of the config and of the store.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            for listing in try await store.administered({ try await $0.list() }) { print(listing.json) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a consumer of the store, and its keys.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The consumer's name.") var name: String

        func run() async throws {
            try await store.administered { try await $0.delete(name) }
            print("deleted \(name)")
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a store consumer's basic-auth password, read from standard input.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The consumer's name.") var name: String

        func run() async throws {
            let password = try readPassword()
            try await store.administered { try await $0.setPassword(password, for: name) }
            print("password set for \(name)")
        }
    }

    struct HashPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the PBKDF2 hash of a password read from standard input, for a consumer's password-hash in the config."
        )

        func run() async throws {
            let password = try readPassword()
            print(try PasswordHash(password: password).description)
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, revoke and rotate API keys.",
        discussion: "Keys are kept as SHA-256 digests; a new key is printed once and cannot be shown again.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key for a consumer and print it once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The consumer the key belongs to.") var consumer: String
        @Option(help: "How long the key is valid, like 90d or 12h (default: until revoked).") var expires: String?

        func run() async throws {
            let created = try await store.administered { try await $0.createKey(for: consumer, expiresIn: expires) }
            print(created.key)
            FileHandle.standardError.write(
                Data(
                    "key \(created.record.id) for \(consumer) (prefix \(created.record.prefix)); it is shown only now\n"
                        .utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a consumer's keys: prefix, created, last used, expiry.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The consumer whose keys to list.") var consumer: String

        func run() async throws {
            let keys = try await store.administered { try await $0.keys(of: consumer) }
            let now = Date()
            let rows = keys.map { key -> [String] in
                let status =
                    key.revoked != nil ? "revoked" : (key.expires.map { $0 <= now } == true ? "expired" : "active")
                return [
                    String(key.id), key.prefix + "…", status, CallRecord.timestamp(key.created),
                    key.lastUsed.map(CallRecord.timestamp) ?? "-", key.expires.map(CallRecord.timestamp) ?? "-",
                ]
            }
            printTable(
                header: ["id", "prefix", "status", "created", "last used", "expires"], rows: rows, empty: "(no keys)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; gateways refuse it within a second.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The consumer the key belongs to.") var consumer: String
        @Argument(help: "The key's id, from keys list.") var id: Int64

        func run() async throws {
            try await store.administered { try await $0.revokeKey(id, of: consumer) }
            print("revoked key \(id) of \(consumer)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key with a new one, printed once; the old one works for the grace period.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The consumer the key belongs to.") var consumer: String
        @Option(help: "How long the old key keeps working, like 24h or 0s.") var grace: String = "24h"
        @Argument(help: "The key's id, from keys list.") var id: Int64

        func run() async throws {
            let created = try await store.administered { try await $0.rotateKey(id, of: consumer, grace: grace) }
            print(created.key)
            FileHandle.standardError.write(
                Data(
                    "key \(created.record.id) replaces key \(id) of \(consumer); the old key expires in \(grace)\n".utf8
                ))
        }
    }
}
