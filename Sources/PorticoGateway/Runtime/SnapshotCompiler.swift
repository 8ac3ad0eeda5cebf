import Foundation
import HTTPTypes
import NIOCore
import PorticoConfig

/// Compiles a config into what a `RuntimeSnapshot` holds: the upstream pools (reusing unchanged
/// ones), each route with its policy chain, the limits, the mounted handlers (the portal), the
/// listeners' certificates. It runs once per load or reload, off the request path.
struct SnapshotCompiler {
    let config: GatewayConfig
    let eventLoopGroup: any EventLoopGroup
    /// The running snapshot's pools; one whose settings did not change is kept, with its connections.
    let previousPools: [String: UpstreamPool]
    let auth: AuthContext
    let limits: LimitContext
    let cache: CacheContext?
    let analytics: AnalyticsAnswers?
    let mounting: (any GatewayMounting)?
    let loadedAt: Date
    let wallClock: @Sendable () -> Date

    /// What one compilation produced.
    struct Compiled {
        var pools: [String: UpstreamPool]
        var entries: [(host: String?, route: CompiledRoute)]
        var planLimits: [String: CompiledLimit]
        var limits: LimitContext
        /// Every limit of the config, plans first, each once.
        var allLimits: [CompiledLimit]
        var mount: (any GatewayMount)?
        var certificates: [Int: ListenerCertificates]
        var requestIDHeader: HTTPField.Name
    }

    func compile() -> Compiled {
        var certificates: [Int: ListenerCertificates] = [:]
        for (index, listener) in config.listeners.enumerated() {
            if let tls = listener.tls, let parsed = ListenerCertificates(config: tls) { certificates[index] = parsed }
        }
        let requestIDHeader = HTTPField.Name(config.server.requestIDHeader) ?? HTTPField.Name("X-Request-Id")!

        var pools: [String: UpstreamPool] = [:]
        for upstream in config.upstreams {
            if let existing = previousPools[upstream.name], existing.config == upstream {
                pools[upstream.name] = existing
            } else {
                pools[upstream.name] = UpstreamPool(config: upstream, eventLoopGroup: eventLoopGroup)
            }
        }

        let builder = ChainBuilder(
            config: config, loadedAt: loadedAt, wallClock: wallClock, requestIDHeader: requestIDHeader,
            authenticators: auth.authenticators(for: config),
            consumers: ConsumerLookup(config: CredentialTable(config: config.consumers), directory: auth.directory),
            logger: auth.logger,
            authFailures: auth.failures,
            limits: limits.with(settings: config.limits),
            cache: cache ?? CacheContext(budget: config.cache.memory, clock: wallClock))
        let mount = mounting?.mount(
            for: config,
            services: MountServices(
                authenticators: builder.authenticators, consumers: builder.consumers, requestIDHeader: requestIDHeader,
                analytics: analytics, failures: auth.failures))
        var entries: [(host: String?, route: CompiledRoute)] = []
        for api in config.apis {
            let routes = api.servedRoutes
            for route in routes {
                let template = PathTemplate.join(api.basePath, route.path)
                var compiled = CompiledRoute(
                    apiName: api.name,
                    apiVersion: api.version,
                    name: route.displayName(under: api.basePath),
                    template: template,
                    methods: Set(route.methods),
                    basePath: api.basePath,
                    stripBasePath: api.stripBasePath,
                    versioning: api.versioning,
                    isDefaultVersion: api.isDefaultVersion,
                    chain: builder.chain(api: api, route: route, pools: pools)
                )
                compiled.host = api.host
                let policies = api.policies.overridden(by: route.policies)
                if policies.upgrade.websocket == true {
                    compiled.upgradeIdleTimeout = (policies.upgrade.streamIdleTimeout ?? .seconds(300)).duration
                }
                let split = route.split ?? api.split
                compiled.upstream =
                    split.map { "split:" + $0.sides.map(\.upstream).joined(separator: ",") } ?? api.upstream
                entries.append((api.host, compiled))
            }
        }
        var seen: Set<Int> = []
        let routeLimits = entries.flatMap { entry in
            entry.route.chain.policies.compactMap { $0 as? RateLimitPolicy }.flatMap(\.routeLimits)
        }
        let plans = builder.planLimits
        let allLimits = (plans.keys.sorted().compactMap { plans[$0] } + routeLimits).filter {
            seen.insert($0.id).inserted
        }
        return Compiled(
            pools: pools, entries: entries, planLimits: builder.planLimits, limits: builder.limits,
            allLimits: allLimits,
            mount: mount, certificates: certificates, requestIDHeader: requestIDHeader)
    }
}
