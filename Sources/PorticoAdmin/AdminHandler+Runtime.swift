internal import Foundation
import PorticoConfig
import PorticoGateway
import PorticoRedis
import PorticoStore

/// The runtime's answers (`/admin/status`, `/admin/upstreams`, `/admin/routes`), built as the
/// generated types of `openapi.yaml`.
extension AdminHandler {
    func status() async -> Components.Schemas.Status {
        let snapshot = runtime.snapshot
        let config = snapshot.config
        let history = runtime.reloadHistory
        let connections = runtime.connections.report
        let cache = runtime.cache.store.statistics
        var tables: [String: Components.Schemas.TableUse] = [
            "call_log_queue": .init(
                entries: callLog.queuedCount, maxEntries: callLog.capacity, bytes: callLog.queuedBytes,
                maxBytes: callLog.maximumQueuedBytes),
            "cache": .init(entries: cache.entries, bytes: cache.bytes, maxBytes: cache.budget),
        ]
        if let limiter = runtime.limits.store as? InMemoryLimiterStore {
            tables["limiter_keys"] = .init(entries: limiter.count, maxEntries: limiter.maximumKeys)
        }
        for table in runtime.auth.tables {
            tables[table.name] = .init(entries: table.entries, maxEntries: table.maximum)
        }
        return Components.Schemas.Status(
            version: PorticoVersion.current,
            node: .init(id: config.node.id, store: await storeStatus()),
            configFile: config.sourceFile,
            configHash: config.contentHash,
            loadedAt: snapshot.loadedAt,
            reloads: .init(
                succeeded: history.succeeded, failed: history.failed, lastTrigger: history.lastTrigger,
                lastReloadMs: history.lastDuration.map { Double($0.milliseconds) }),
            lastError: history.lastError,
            lastErrorAt: history.lastErrorAt.map(CallRecord.timestamp),
            apis: config.apis.count,
            routes: snapshot.routes.count,
            upstreams: config.upstreams.count,
            callLog: .init(queued: callLog.queuedCount, written: callLog.writtenCount, dropped: callLog.droppedCount),
            limitStore: limitStore(),
            connections: .init(
                open: connections.open, max: runtime.connections.maximum, addresses: connections.addresses,
                maxPerIp: runtime.connections.maximumPerAddress, refused: connections.refused),
            paths: .init(
                eventLoop: runtime.paths.eventLoop.load(ordering: .relaxed),
                streaming: runtime.paths.streaming.load(ordering: .relaxed)),
            tables: .init(additionalProperties: tables))
    }

    /// The store's kind; for PostgreSQL its URL (without the password), whether it answers, and
    /// the peers (nodes on the same database) seen in the last minute.
    private func storeStatus() async -> Components.Schemas.StoreStatus {
        guard let postgres = store as? PostgresStore else { return .init(kind: .sqlite) }
        do {
            let peers = try await postgres.peers(since: Date().addingTimeInterval(-60))
            return .init(
                kind: .postgres, url: postgres.url.description, connected: true,
                peers: peers.map { .init(id: $0.id, seen: CallRecord.timestamp($0.seen)) })
        } catch {
            return .init(kind: .postgres, url: postgres.url.description, connected: false, error: "\(error)", peers: [])
        }
    }

    /// Where limits are counted, and for Redis the connections and what failed over.
    private func limitStore() -> Components.Schemas.LimitStoreStatus {
        guard let redis = runtime.limits.store as? RedisLimiterStore else { return .init(kind: .memory) }
        let status = redis.client.status
        let health = redis.health
        let failures = health.failures
        return .init(
            kind: .redis, url: redis.client.configuration.url.description, connected: status.connected,
            connections: status.total, _protocol: status.protocolVersion,
            degradedSince: health.degradedSince.map(CallRecord.timestamp),
            lastError: health.lastError ?? status.lastError,
            failedOver: .init(allow: failures[.allow] ?? 0, deny: failures[.deny] ?? 0, local: failures[.local] ?? 0),
            localKeys: redis.fallback.count)
    }

    /// Each upstream's balancer and breaker, and each target's health, breaker, load and errors.
    func upstreams() -> Components.Schemas.Upstreams {
        let snapshot = runtime.snapshot
        let now = ContinuousClock.now
        let pools = snapshot.config.upstreams.compactMap { snapshot.pools[$0.name] }
        return .init(
            upstreams: pools.map { pool in
                Components.Schemas.Upstream(
                    name: pool.config.name, balance: pool.config.balance.rawValue, breaker: pool.breakerStateName,
                    targets: pool.targets.map { target in
                        let report = target.report(now: now)
                        return Components.Schemas.Target(
                            url: target.config.origin + target.config.basePath, weight: target.config.weight,
                            healthy: report.healthy, ejected: report.ejected, drained: report.drained,
                            breaker: report.breaker, inFlight: report.inFlight, requests: report.requests,
                            failures: report.failures,
                            errorRate: report.requests == 0 ? 0 : Double(report.failures) / Double(report.requests),
                            lastLatencyMs: report.lastLatency.map { Double($0.milliseconds) })
                    })
            })
    }

    /// The compiled route table: API, version, upstream and policies of each route.
    func routes() -> Components.Schemas.Routes {
        .init(
            routes: runtime.snapshot.routeList.map { route in
                Components.Schemas.Route(
                    api: route.apiName, version: route.apiVersion, name: route.name, path: route.template,
                    methods: route.methods.sorted(), host: route.host, upstream: route.upstream,
                    policies: route.policyNames)
            })
    }
}
