internal import Foundation
import PorticoGateway
import PorticoOpenAPIServer
import PorticoStore

/// What the cache holds against its budget, and purges by URL, prefix, tag or all.
extension AdminHandler {
    func getCache(_ input: Operations.GetCache.Input) async throws -> Operations.GetCache.Output {
        let stats = runtime.cache.store.statistics
        return .ok(
            .init(
                body: .json(
                    .init(
                        entries: stats.entries, bytes: stats.bytes, budget: stats.budget, stores: stats.stores,
                        evictions: stats.evictions))))
    }

    func purgeCache(_ input: Operations.PurgeCache.Input) async throws -> Operations.PurgeCache.Output {
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        // The same object other nodes receive and read with `AdminAPI.purge(from:)`.
        var fields: [String: Any] = [:]
        if let url = body.url { fields["url"] = url }
        if let prefix = body.prefix { fields["prefix"] = prefix }
        if let tag = body.tag { fields["tag"] = tag }
        if let all = body.all { fields["all"] = all }
        let purge = try AdminAPI.purge(from: fields)
        let purged = AdminAPI.applyPurge(purge, runtime: runtime)
        // On a shared store, every other node purges the same (it listens on the channel).
        guard let postgres = store as? PostgresStore else {
            return .ok(.init(body: .json(.init(purged: purged, nodes: .this))))
        }
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        do {
            try await postgres.notify(PostgresNotifications.cacheChannel, payload: payload)
        } catch PostgresNotificationError.payloadTooLarge {
            throw GatewayError.badRequest(
                "The purge is too long to send to the other nodes (at most \(PostgresStore.maximumNotificationBytes) bytes)."
            )
        }
        return .ok(.init(body: .json(.init(purged: purged, nodes: .all))))
    }

    func getLimits(_ input: Operations.GetLimits.Input) async throws -> Operations.GetLimits.Output {
        let states = try await runtime.snapshot.limitState(of: input.query.key)
        let limits = states.map { state in
            Components.Schemas.LimitState(
                policy: state.policy, quota: state.quota, windowS: state.window, remaining: state.remaining,
                resetS: state.reset)
        }
        return .ok(.init(body: .json(.init(key: input.query.key, limits: limits))))
    }
}
