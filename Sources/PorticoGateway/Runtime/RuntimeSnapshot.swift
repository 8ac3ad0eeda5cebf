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
public final class RuntimeSnapshot: Sendable {
    public let config: GatewayConfig
    public let routes: RouteTable
    /// Every compiled route, in config order, for `/admin/routes`.
    public let routeList: [CompiledRoute]
    /// The upstream pools by name.
    public let pools: [String: UpstreamPool]
    /// When this snapshot was compiled.
    public let loadedAt: Date
    /// Requests being served with this snapshot; a replaced snapshot's pools close when it reaches 0.
    let inFlight = Atomic<Int>(0)

    /// How many requests are being served with this snapshot now.
    public var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }
    package let requestIDHeader: HTTPField.Name
    /// The wall clock that sunsets are checked against.
    let wallClock: @Sendable () -> Date
    /// Each plan's limit, by plan name.
    public let planLimits: [String: CompiledLimit]
    /// This config's rate-limit settings and the shared store.
    public let limits: LimitContext
    /// Every limit of this config: the plans' and the routes'.
    public let allLimits: [CompiledLimit]
    /// The app's handlers beside the routes (the developer portal), when the config has them.
    let mount: (any GatewayMount)?
    /// What every request passes before anything else: one Host, a canonical path, clean headers.
    let requestGuard: RequestGuard
    /// Each TLS listener's certificates, by its place in `config.listeners` (the listeners are
    /// fixed at start; a reload changes their certificates).
    let certificates: [Int: ListenerCertificates]

    /// Compiles `config`. Pools named in `reusing` whose settings did not change are kept, with
    /// their open connections, instead of being created anew.
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
        self.config = config
        self.wallClock = wallClock
        self.loadedAt = wallClock()
        self.requestGuard = RequestGuard(server: config.server)
        var certificates: [Int: ListenerCertificates] = [:]
        for (index, listener) in config.listeners.enumerated() {
            if let tls = listener.tls, let parsed = ListenerCertificates(config: tls) { certificates[index] = parsed }
        }
        self.certificates = certificates
        let requestIDHeader = HTTPField.Name(config.server.requestIDHeader) ?? HTTPField.Name("X-Request-Id")!
        self.requestIDHeader = requestIDHeader

        var pools: [String: UpstreamPool] = [:]
        for upstream in config.upstreams {
            if let existing = previous[upstream.name], existing.config == upstream {
                pools[upstream.name] = existing
            } else {
                pools[upstream.name] = UpstreamPool(config: upstream, eventLoopGroup: eventLoopGroup)
            }
        }
        self.pools = pools

        let builder = ChainBuilder(
            config: config, loadedAt: loadedAt, wallClock: wallClock, requestIDHeader: requestIDHeader,
            authenticators: auth.authenticators(for: config),
            consumers: ConsumerLookup(config: CredentialTable(config: config.consumers), directory: auth.directory),
            logger: auth.logger,
            authFailures: auth.failures,
            limits: limits.with(settings: config.limits),
            cache: cache ?? CacheContext(budget: config.cache.memory, clock: wallClock))
        self.planLimits = builder.planLimits
        self.limits = builder.limits
        self.mount = mounting?.mount(
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
                if policies.websocket == true {
                    compiled.upgradeIdleTimeout = (policies.streamIdleTimeout ?? .seconds(300)).duration
                }
                let split = route.split ?? api.split
                compiled.upstream =
                    split.map { "split:" + $0.sides.map(\.upstream).joined(separator: ",") } ?? api.upstream
                entries.append((api.host, compiled))
            }
        }
        self.routes = RouteTable(routes: entries)
        self.routeList = entries.map(\.route)
        var seen: Set<Int> = []
        let routeLimits = entries.flatMap { entry in
            entry.route.chain.policies.compactMap { $0 as? RateLimitPolicy }.flatMap(\.routeLimits)
        }
        let plans = builder.planLimits
        self.allLimits = (plans.keys.sorted().compactMap { plans[$0] } + routeLimits).filter {
            seen.insert($0.id).inserted
        }
    }

    /// The state of `key` under every limit of this config that holds some, without charging it.
    public func limitState(of key: String) async throws -> [LimitDecision] {
        try await limits.store.peek(key, limits: allLimits, now: limits.clock())
    }

}

extension RuntimeSnapshot {
    /// What serving one request produced, before the response is written.
    public struct Served: Sendable {
        public var response: Response
        /// The request's exchange; nil when no route matched.
        public var exchange: Exchange?
        /// The error the response reports, if it is one.
        public var failure: GatewayError?
        /// The path the call is logged with: the canonical one, or the refused one cut short.
        public var path: String = ""
    }

    /// Matches the request to a route and runs its chain; every failure becomes a problem+json response.
    ///
    /// The gateway's handler writes and logs what this returns; `portico-bench auth` calls it in a loop.
    /// `terminal` replaces every route's terminal stage (`PolicyHarness` plays the upstream so).
    public func respond(
        to sent: Request, requestID: String, trace: TraceContext? = nil, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger
    ) async -> Served {
        await respond(
            to: sent, requestID: requestID, trace: trace, clientAddress: clientAddress, start: start, logger: logger,
            terminal: nil)
    }

    package func respond(
        to sent: Request, requestID: String, trace: TraceContext?, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger, terminal: (any Policy)?
    ) async -> Served {
        let request: Request
        switch requestGuard.admit(sent.head, peer: clientAddress) {
        case .success(let head):
            request = head.map { Request(head: $0, body: sent.body) } ?? sent
        case .failure(let error):
            let path = CallRecord.bounded(sent.uri.path, to: CallRecord.maximumPathBytes)
            var served = Served(
                response: error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                failure: error)
            served.path = path
            return served
        }
        var served = await respondAdmitted(
            to: request, requestID: requestID, trace: trace, clientAddress: clientAddress, start: start, logger: logger,
            terminal: terminal)
        served.path = request.uri.path
        return served
    }

    private func respondAdmitted(
        to request: Request, requestID: String, trace: TraceContext?, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger, terminal: (any Policy)?
    ) async -> Served {
        let path = request.uri.path
        switch mount?.claim(host: request.head.authority, path: path) ?? .pass {
        case .pass:
            break
        case .refuse:
            let failure = GatewayError.noRoute
            return Served(
                response: failure.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                failure: failure)
        case .serve:
            do {
                let address = limits.clientAddress.resolve(peer: clientAddress, headers: request.headers)
                var response = try await mount!.respond(
                    to: request, requestID: requestID, snapshot: self, clientAddress: address)
                response.headers[requestIDHeader] = requestID
                return Served(response: response)
            } catch let error as GatewayError {
                return Served(
                    response: error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    failure: error)
            } catch {
                // The error's text names internal types and files: it goes to the log, not to the client.
                logger.error("mounted handler failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
                let wrapped = GatewayError.badGateway("The gateway could not answer.")
                return Served(
                    response: wrapped.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    failure: wrapped)
            }
        }
        let match = routes.match(request.head, path: path)
        let failure: GatewayError
        switch match {
        case .route(let route):
            let exchange = Exchange(
                requestID: requestID, trace: trace ?? TraceContext(headers: request.headers),
                clientAddress: clientAddress, host: request.head.authority, start: start, route: route,
                request: request.head)
            do {
                let chain = terminal.map(route.chain.replacingTerminal) ?? route.chain
                return Served(response: try await chain.run(request, exchange: exchange), exchange: exchange)
            } catch let error as GatewayError {
                var response = error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader)
                response.headers.append(contentsOf: exchange.errorFields)
                if let cache = exchange.cacheStatus {
                    response.headers[CachePolicy.cacheStatusHeader] = cache.headerValue
                }
                return Served(response: response, exchange: exchange, failure: error)
            } catch {
                let wrapped = GatewayError.badGateway("The gateway could not complete the request.")
                logger.error("request failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
                return Served(
                    response: wrapped.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    exchange: exchange, failure: wrapped)
            }
        case .methodNotAllowed(let allowed): failure = .methodNotAllowed(allowed: allowed)
        case .unknownVersion(let requested, let available):
            failure = .unknownVersion(requested: requested, available: available)
        case .notFound: failure = .noRoute
        }
        return Served(
            response: failure.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
            failure: failure)
    }
}
