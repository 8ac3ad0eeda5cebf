import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PorticoConfig
import PorticoRedis
import ServiceLifecycle
import Synchronization

/// Holds the active snapshot behind one lock-protected reference, reloads it, and owns the pools.
///
/// A reload loads and compiles a whole new snapshot on a blocking-I/O thread, never on the
/// request path, and swaps it in only if the config is valid. Requests that took the old
/// snapshot finish on it; once they have, the pools it had and the new one does not are closed.
/// As a `Service` it runs those retirements and closes every pool at shutdown.
package final class GatewayRuntime: Service, Sendable {
    private let current: Mutex<RuntimeSnapshot>
    private let history: Mutex<ReloadHistory>
    /// Serializes reloads: two triggers at once must not compile and swap concurrently.
    private let reloadLock = Mutex(())
    /// Pools of replaced snapshots not yet closed; shutdown closes whatever is left.
    private let leaving = Mutex<[UpstreamPool]>([])
    private let events: AsyncStream<Event>
    private let post: AsyncStream<Event>.Continuation
    private let configPath: String
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let wallClock: @Sendable () -> Date
    /// Credentials and key caches that every snapshot shares.
    package let auth: AuthContext
    /// The rate-limit store and clock that every snapshot shares, so counters survive reloads.
    package let limits: LimitContext
    /// The response cache every snapshot shares, so entries survive reloads.
    package let cache: CacheContext
    /// What `/readyz` reports.
    package let readiness: Readiness
    /// Open client connections against `server.max-connections` and `max-connections-per-ip`,
    /// fixed at start (the listener is not rebuilt on reload).
    package let connections: ConnectionBudget
    /// Requests served on the event-loop path and requests passed on to the streaming path.
    package let paths = ServingPaths()
    /// The call store's queries, for the portal API's usage endpoints.
    private let analytics: AnalyticsAnswers?
    /// What the app mounts beside the routes (the developer portal), rebuilt with each snapshot.
    private let mounting: (any GatewayMounting)?

    /// Compiles the first snapshot from a loaded config.
    ///
    /// - Parameters:
    ///   - configPath: the path reloads read, as the operator gave it (defaults to the config's absolute path).
    ///   - mounting: the app's handlers beside the routes (`PorticoApp` mounts the developer portal).
    ///   - wallClock: the time sunsets are checked against; tests pass their own.
    package init(
        config: GatewayConfig,
        configPath: String? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        auth: AuthContext = AuthContext(),
        limits: LimitContext? = nil,
        readiness: Readiness = Readiness(),
        analytics: AnalyticsAnswers? = nil,
        mounting: (any GatewayMounting)? = nil,
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.readiness = readiness
        self.analytics = analytics
        self.mounting = mounting
        let descriptors = ConnectionBudget.raiseFileLimit()
        self.connections = ConnectionBudget(
            maximum: config.server.maxConnections ?? ConnectionBudget.defaultMaximum(descriptors: descriptors),
            maximumPerAddress: config.server.maxConnectionsPerIP)
        self.auth = auth
        let limits =
            limits
            ?? LimitContext(
                store: Self.limiterStore(config: config, eventLoopGroup: eventLoopGroup, logger: logger),
                settings: config.limits)
        self.limits = limits
        let cache = CacheContext(budget: config.cache.memory, clock: wallClock)
        self.cache = cache
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.wallClock = wallClock
        self.configPath = configPath ?? config.sourceFile
        self.current = Mutex(
            RuntimeSnapshot(
                config: config, eventLoopGroup: eventLoopGroup, auth: auth, limits: limits, cache: cache,
                analytics: analytics,
                mounting: mounting, wallClock: wallClock))
        self.history = Mutex(ReloadHistory())
        (self.events, self.post) = AsyncStream.makeStream(of: Event.self)
    }

    /// Work for `run()`'s task group.
    private enum Event {
        /// New pools whose active health checks must start.
        case started([UpstreamPool])
        /// A replaced snapshot whose removed pools close once its requests finish.
        case retired(RuntimeSnapshot)
    }

    /// The snapshot to use for one request, from start to end.
    package var snapshot: RuntimeSnapshot { current.withLock { $0 } }

    /// Reload counters and the last error, for `/admin/status`.
    package var reloadHistory: ReloadHistory { history.withLock { $0 } }

    /// The files a change to which should trigger a reload: the config and the documents it names.
    package var watchedFiles: [String] {
        let files = snapshot.config.sourceFiles
        let root = ConfigLoader.absolutePath(configPath)
        return files.contains(root) ? files : [root] + files
    }

    /// Loads the config file again and swaps in the result if it is valid and different.
    @discardableResult
    package func reload(trigger: String) async -> ReloadOutcome {
        let outcome: ReloadOutcome
        let requested = ContinuousClock.now
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive {
                self.reloadNow(trigger: trigger, requested: requested)
            }
        } catch {
            outcome = .failed(message: "reload could not run: \(error)", diagnostics: [])
        }
        return outcome
    }

    /// What changed in the listeners beyond their certificates, which a reload cannot apply (the
    /// sockets and their TLS contexts are made at start); nil when nothing did.
    static func listenerChange(old: [ListenerConfig], new: [ListenerConfig]) -> String? {
        func shape(_ listener: ListenerConfig) -> String {
            var text = "\(listener.listen) \(listener.protocols) redirect=\(listener.redirectHTTPS) \(listener.http2)"
            if let tls = listener.tls {
                var ca = ContentHash()
                ca.combine(tls.clientCAPEM ?? [])
                text += " tls min=\(tls.minimumVersion.rawValue) client-ca=\(tls.clientCAPEM == nil ? "none" : ca.hex)"
            }
            return text
        }
        guard old.count == new.count else { return "the listeners went from \(old.count) to \(new.count)" }
        for (index, (before, after)) in zip(old, new).enumerated() where shape(before) != shape(after) {
            return
                "listener \(index) changed (\(before.listen) to \(after.listen), or its protocols, http2, min-version or client-ca)"
        }
        return nil
    }

    private func reloadNow(trigger: String, requested: ContinuousClock.Instant) -> ReloadOutcome {
        reloadLock.withLock { _ in
            let started = ContinuousClock.now
            let old = snapshot
            let config: GatewayConfig
            do throws(ConfigError) {
                config = try ConfigLoader().load(file: configPath)
            } catch {
                let message = error.description
                history.withLock { $0.recordFailure(message: message, trigger: trigger) }
                logger.error(
                    "reload rejected; the previous config keeps serving",
                    metadata: ["reload.trigger": "\(trigger)", "config.errors": "\(message)"])
                return .failed(message: message, diagnostics: error.diagnostics)
            }
            guard config.contentHash != old.config.contentHash else {
                return .unchanged(hash: config.contentHash)
            }
            if let change = Self.listenerChange(old: old.config.listeners, new: config.listeners) {
                let message =
                    "\(configPath): \(change); listeners are fixed at start, so restart to apply it (certificate files may change)"
                history.withLock { $0.recordFailure(message: message, trigger: trigger) }
                logger.error(
                    "reload rejected; the previous config keeps serving",
                    metadata: ["reload.trigger": "\(trigger)", "config.errors": "\(message)"])
                return .failed(message: message, diagnostics: [])
            }
            warnAboutRestartOnlySettings(old: old.config, new: config)
            for warning in config.warnings {
                logger.warning("config warning", metadata: ["config.warning": "\(warning)"])
            }
            let next = RuntimeSnapshot(
                config: config, eventLoopGroup: eventLoopGroup, reusing: old.pools, auth: auth, limits: limits,
                cache: cache,
                analytics: analytics, mounting: mounting, wallClock: wallClock)
            cache.store.setBudget(config.cache.memory)
            current.withLock { $0 = next }
            let elapsed = ContinuousClock.now - started
            history.withLock { $0.recordSuccess(duration: elapsed, trigger: trigger, requested: requested) }
            let oldPools = old.pools.values
            post.yield(.started(next.pools.values.filter { pool in !oldPools.contains { $0 === pool } }))
            post.yield(.retired(old))
            logger.info(
                "config reloaded",
                metadata: [
                    "reload.trigger": "\(trigger)", "config.hash": "\(config.contentHash)",
                    "routes.count": "\(next.routes.count)", "reload.ms": "\(elapsed.milliseconds)",
                ])
            return .applied(hash: config.contentHash, duration: elapsed)
        }
    }

    /// Listeners and the store are bound at start; a reload cannot move them.
    private func warnAboutRestartOnlySettings(old: GatewayConfig, new: GatewayConfig) {
        var changed: [String] = []
        if old.listen != new.listen { changed.append("listen") }
        if old.admin?.listen != new.admin?.listen { changed.append("admin.listen") }
        if old.store.sqlitePath != new.store.sqlitePath { changed.append("store") }
        if old.limits.store != new.limits.store { changed.append("limits.store") }
        if !changed.isEmpty {
            logger.warning(
                "these settings take effect only after a restart",
                metadata: ["config.keys": "\(changed.joined(separator: ", "))"])
        }
    }

    /// The store `limits.store` names: Redis, or this node's memory. A Redis store whose TLS
    /// settings cannot be read falls back to memory with an error in the log.
    static func limiterStore(
        config: GatewayConfig, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) -> any LimiterStore {
        guard let store = config.limits.store else { return InMemoryLimiterStore(maxKeys: config.limits.maxKeys) }
        var client = RedisClient.Configuration(url: store.url)
        client.connectionsPerLoop = store.connections
        client.commandTimeout = .milliseconds(store.timeout.milliseconds)
        if let ca = store.ca {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(ca)
            client.tls = tls
        }
        do {
            let redis = try RedisClient(configuration: client, eventLoopGroup: eventLoopGroup, logger: logger)
            return RedisLimiterStore(
                client: redis, prefix: store.prefix, fallbackKeys: config.limits.maxKeys, logger: logger)
        } catch {
            logger.error("limits.store cannot be used; limits count in memory", metadata: ["error": "\(error)"])
            return InMemoryLimiterStore(maxKeys: config.limits.maxKeys)
        }
    }

    package func run() async throws {
        readiness.markStarted()
        let redis = (limits.store as? RedisLimiterStore)?.client
        redis?.start()
        defer { redis?.shutdown() }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.cache.runRefresher() }
            for pool in snapshot.pools.values {
                group.addTask { await pool.runHealthChecks(logger: self.logger) }
                group.addTask { await pool.runDNSRefresh(logger: self.logger) }
            }
            for await event in events.cancelOnGracefulShutdown() {
                switch event {
                case .started(let pools):
                    for pool in pools {
                        group.addTask { await pool.runHealthChecks(logger: self.logger) }
                        group.addTask { await pool.runDNSRefresh(logger: self.logger) }
                    }
                case .retired(let old):
                    group.addTask { await self.retire(old) }
                }
            }
            // Shutting down: the listeners have drained; stop the health checks and retirements.
            readiness.markDraining()
            group.cancelAll()
        }
        // The listener can report itself stopped while a handler is still finishing after its
        // response (recording the call). Wait for those, so the call log, which stops after the
        // runtime, gets every record before its final flush.
        let current = snapshot
        let deadline = ContinuousClock.now + current.config.server.drainTimeout.duration
        while current.inFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let pools = Array(current.pools.values) + leaving.withLock { $0 }
        for pool in pools where !pool.isClosed { await pool.shutdown() }
        logger.debug("upstream pools closed", metadata: ["upstream.count": "\(pools.count)"])
    }

    /// Waits for the old snapshot's requests to finish, then closes the pools no longer used.
    private func retire(_ old: RuntimeSnapshot) async {
        let removed = old.pools.values.filter { pool in !snapshot.pools.values.contains { $0 === pool } }
        leaving.withLock { $0.append(contentsOf: removed) }
        let deadline = ContinuousClock.now + old.config.server.drainTimeout.duration
        while old.inFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !Task.isCancelled else { return }  // shutdown closes them
        for pool in removed {
            await pool.shutdown()
            leaving.withLock { $0.removeAll { $0 === pool } }
            logger.info(
                "upstream removed; its connections are closed", metadata: ["upstream.name": "\(pool.config.name)"])
        }
    }
}

/// What a reload did.
package enum ReloadOutcome: Sendable {
    case applied(hash: String, duration: Duration)
    /// The files compile to the config already running.
    case unchanged(hash: String)
    /// The config is invalid; the previous one keeps serving.
    case failed(message: String, diagnostics: [ConfigDiagnostic])
}

/// Reload counters and the last error.
package struct ReloadHistory: Sendable {
    package private(set) var succeeded = 0
    package private(set) var failed = 0
    package private(set) var lastError: String?
    package private(set) var lastErrorAt: Date?
    package private(set) var lastTrigger: String?
    package private(set) var lastDuration: Duration?
    /// When the last successful reload was asked for (by the watcher, a signal or the admin API).
    package private(set) var lastRequestedAt: ContinuousClock.Instant?

    mutating func recordSuccess(duration: Duration, trigger: String, requested: ContinuousClock.Instant) {
        succeeded += 1
        lastDuration = duration
        lastRequestedAt = requested
        lastTrigger = trigger
        lastError = nil
        lastErrorAt = nil
    }

    mutating func recordFailure(message: String, trigger: String) {
        failed += 1
        lastTrigger = trigger
        lastError = message
        lastErrorAt = Date()
    }
}

extension Duration {
    /// The duration in (fractional) milliseconds.
    package var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
