internal import Foundation
import PorticoConfig
import PorticoGateway
import PorticoStore

/// Consumers, API keys and passwords. Every change is applied to the running gateway at once (the
/// credential table is read again), and to other gateways on the same store within their poll interval.
extension AdminHandler {
    private var administration: ConsumerAdministration {
        ConsumerAdministration(store: store, declared: runtime.snapshot.config.consumers)
    }

    private func applied() async { _ = try? await runtime.auth.directory.refresh() }

    func listConsumers(_ input: Operations.ListConsumers.Input) async throws -> Operations.ListConsumers.Output {
        let listings = try await administration.list()
        return .ok(.init(body: .json(.init(consumers: listings.map(Self.consumer)))))
    }

    func createConsumer(_ input: Operations.CreateConsumer.Input) async throws -> Operations.CreateConsumer.Output {
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        let listing = try await administration.create(
            name: body.name, groups: body.groups ?? [], plan: body.plan, scopes: body.scopes ?? [],
            password: body.password)
        await applied()
        return .created(.init(body: .json(Self.consumer(listing))))
    }

    func getConsumer(_ input: Operations.GetConsumer.Input) async throws -> Operations.GetConsumer.Output {
        guard let listing = try await administration.find(input.path.name) else {
            throw GatewayError.notFound("No consumer named '\(input.path.name)'.")
        }
        return .ok(.init(body: .json(Self.consumer(listing))))
    }

    func deleteConsumer(_ input: Operations.DeleteConsumer.Input) async throws -> Operations.DeleteConsumer.Output {
        try await administration.delete(input.path.name)
        await applied()
        return .noContent(.init())
    }

    func setPassword(_ input: Operations.SetPassword.Input) async throws -> Operations.SetPassword.Output {
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        try await administration.setPassword(body.password, for: input.path.name)
        await applied()
        return .noContent(.init())
    }

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let keys = try await administration.keys(of: input.path.name)
        return .ok(.init(body: .json(.init(keys: keys.map { Self.key($0) }))))
    }

    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        var expires: String?
        if case .json(let body) = input.body { expires = body.expires }
        let created = try await administration.createKey(for: input.path.name, expiresIn: expires)
        await applied()
        return .created(.init(body: .json(Self.created(created))))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        try await administration.revokeKey(input.path.id, of: input.path.name)
        await applied()
        return .noContent(.init())
    }

    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        var grace = "24h"
        if case .json(let body) = input.body, let given = body.grace { grace = given }
        let created = try await administration.rotateKey(input.path.id, of: input.path.name, grace: grace)
        await applied()
        return .created(.init(body: .json(Self.created(created))))
    }

    static func consumer(_ listing: ConsumerAdministration.Listing) -> Components.Schemas.Consumer {
        .init(
            name: listing.name, source: listing.source == "config" ? .config : .store, groups: listing.groups,
            plan: listing.plan, scopes: listing.scopes, hasPassword: listing.hasPassword)
    }

    /// A key as listed: everything but the key itself.
    static func key(_ key: StoredKey, now: Date = Date()) -> Components.Schemas.Key {
        .init(
            id: Int(key.id), prefix: key.prefix, status: .init(rawValue: key.status(at: now)) ?? .active,
            created: key.created, expires: key.expires.map(CallRecord.timestamp),
            revoked: key.revoked.map(CallRecord.timestamp), lastUsed: key.lastUsed.map(CallRecord.timestamp),
            replacedBy: key.replacedBy.map { Int($0) })
    }

    /// A new key: as listed, with the key itself, shown this once.
    static func created(_ created: CreatedKey) -> Components.Schemas.CreatedKey {
        .init(value1: key(created.record), value2: .init(key: created.key))
    }
}
