import Foundation
import Logging
import PorticoAdmin
import PorticoConfig
import PorticoDevPortal
import PorticoGateway
import PorticoStore
import ServiceLifecycle

/// Everything `portico serve` runs, wired once so the CLI and the end-to-end tests start the same thing.
package struct PorticoApp: Sendable {
    package let runtime: GatewayRuntime
    /// SQLite, or PostgreSQL with `store.postgres`.
    package let store: any DataStore
    package let callLog: CallLogWriter
    package let accessLog: AccessLogWriter?
    /// The store's consumers and keys, polled so revocations apply within a second.
    package let credentials: CredentialDirectory
    /// The Prometheus metrics `/metrics` on the admin listener serves.
    package let metrics = GatewayMetrics()
    private let config: GatewayConfig
    private let logger: Logger

    /// Opens the store and compiles the first snapshot.
    ///
    /// - Parameter configPath: the config file as the operator named it; reloads read it again.
    /// - Parameter wallClock: the time sunsets are checked against; tests pass their own.
    package init(
        config: GatewayConfig, configPath: String? = nil, logger: Logger,
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.config = config
        self.logger = logger
        self.store = try DataStores.open(config.store, logger: logger)
        self.callLog = CallLogWriter(store: store, capacity: config.store.queue, logger: logger)
        self.accessLog = config.server.accessLog ? AccessLogWriter() : nil
        self.credentials = CredentialDirectory(store: store, logger: logger)
        self.runtime = GatewayRuntime(
            config: config, configPath: configPath, logger: logger,
            auth: AuthContext(directory: credentials, logger: logger),
            readiness: Readiness(probe: { [store] in try await store.probeWrite() }),
            analytics: AnalyticsAnswers(store: store),
            mounting: PortalMounting(), wallClock: wallClock)
    }

    /// The services in start order. A service group stops them in reverse order, so the
    /// listeners drain first, then the pools close, then the logs flush.
    ///
    /// - Parameter reloadOnSIGHUP: trap SIGHUP to reload; `portico serve` does, in-process tests do not.
    package func services(
        reloadOnSIGHUP: Bool = false,
        onGatewayListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onAdminListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onListenerListening: @escaping @Sendable (Int, Int) async -> Void = { _, _ in }
    ) -> [any Service] {
        let sinks: [any CallRecordSink] = (config.store.callLog ? [callLog] : []) + (accessLog.map { [$0] } ?? [])
        var services: [any Service] = []
        // A shared store first: it runs the connections every other service uses, and stops last.
        if let postgres = store as? PostgresStore {
            services.append(postgres)
            services.append(NodeHeartbeat(store: postgres, node: config.node.id, logger: logger))
            let (credentials, runtime, logger) = (self.credentials, self.runtime, self.logger)
            services.append(
                PostgresNotifications(
                    store: postgres, logger: logger,
                    onAuthChange: { _ = try? await credentials.refresh() },
                    onCachePurge: { payload in
                        // Another node's admin API purged its cache: do the same here.
                        guard
                            let body = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any],
                            let purge = try? AdminAPI.purge(from: body)
                        else {
                            return logger.warning(
                                "a cache purge from another node could not be read",
                                metadata: ["payload": "\(payload.prefix(200))"])
                        }
                        _ = AdminAPI.applyPurge(purge, runtime: runtime)
                    }))
        }
        services += [
            callLog, RetentionService(store: store, retention: config.store.retention, logger: logger), credentials,
        ]
        if let accessLog { services.append(accessLog) }
        services.append(runtime)
        if config.server.watchConfig {
            services.append(
                ConfigWatcher(runtime: runtime, interval: config.server.watchInterval.duration, logger: logger))
        }
        if reloadOnSIGHUP { services.append(ReloadSignalService(runtime: runtime)) }
        if let admin = config.admin {
            services.append(
                AdminAPI(runtime: runtime, config: admin, store: store, callLog: callLog, metrics: metrics).application(
                    logger: logger, onListening: onAdminListening))
        }
        services.append(
            GatewayServer(
                runtime: runtime, sinks: sinks, metrics: metrics, logger: logger, onListening: onGatewayListening,
                onListenerListening: onListenerListening))
        return services
    }
}
