import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import PorticoStore
import Synchronization

/// Everything a request needs, compiled from one config and never changed afterwards.
///
/// A request takes the current snapshot once and uses it to the end, so a reload never changes
/// the rules under a request in flight.
package final class RuntimeSnapshot: Sendable {
    package let config: GatewayConfig
    package let routes: RouteTable
    /// Every compiled route, in config order, for `/admin/routes`.
    package let routeList: [CompiledRoute]
    /// The upstream pools by name.
    package let pools: [String: UpstreamPool]
    /// When this snapshot was compiled.
    package let loadedAt: Date
    /// Requests being served with this snapshot; a replaced snapshot's pools close when it reaches 0.
    let inFlight = Atomic<Int>(0)

    /// How many requests are being served with this snapshot now.
    package var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }
    package let requestIDHeader: HTTPField.Name
    /// The wall clock that sunsets are checked against.
    let wallClock: @Sendable () -> Date
    /// Each plan's limit, by plan name.
    package let planLimits: [String: CompiledLimit]
    /// This config's rate-limit settings and the shared store.
    package let limits: LimitContext
    /// Every limit of this config: the plans' and the routes'.
    package let allLimits: [CompiledLimit]
    /// The app's handlers beside the routes (the developer portal), when the config has them.
    let mount: (any GatewayMount)?
    /// What every request passes before anything else: one Host, a canonical path, clean headers.
    let requestGuard: RequestGuard
    /// Each TLS listener's certificates, by its place in `config.listeners` (the listeners are
    /// fixed at start; a reload changes their certificates).
    let certificates: [Int: ListenerCertificates]

    /// Compiles `config` (with `SnapshotCompiler`). Pools named in `reusing` whose settings did
    /// not change are kept, with their open connections, instead of being created anew.
    init(
        config: GatewayConfig,
        eventLoopGroup: any EventLoopGroup,
        reusing previous: [String: UpstreamPool] = [:],
        auth: AuthContext = AuthContext(),
        limits: LimitContext = LimitContext(store: InMemoryLimiterStore()),
        cache: CacheContext? = nil,
        analytics: AnalyticsAnswers? = nil,
        mounting: (any GatewayMounting)? = nil,
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        let loadedAt = wallClock()
        let compiled = SnapshotCompiler(
            config: config, eventLoopGroup: eventLoopGroup, previousPools: previous, auth: auth, limits: limits,
            cache: cache,
            analytics: analytics, mounting: mounting, loadedAt: loadedAt, wallClock: wallClock
        ).compile()
        self.config = config
        self.wallClock = wallClock
        self.loadedAt = loadedAt
        self.requestGuard = RequestGuard(server: config.server)
        self.certificates = compiled.certificates
        self.requestIDHeader = compiled.requestIDHeader
        self.pools = compiled.pools
        self.planLimits = compiled.planLimits
        self.limits = compiled.limits
        self.mount = compiled.mount
        self.routes = RouteTable(routes: compiled.entries)
        self.routeList = compiled.entries.map(\.route)
        self.allLimits = compiled.allLimits
    }

    /// The state of `key` under every limit of this config that holds some, without charging it.
    package func limitState(of key: String) async throws -> [LimitDecision] {
        try await limits.store.peek(key, limits: allLimits, now: limits.clock())
    }

}
