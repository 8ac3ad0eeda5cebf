import Foundation
import HTTPTypes
import Logging
import NIOCore
import PorticoConfig

/// Builds each route's policy chain from the config, once per snapshot.
struct ChainBuilder {
    let config: GatewayConfig
    let loadedAt: Date
    let wallClock: @Sendable () -> Date
    let requestIDHeader: HTTPField.Name
    let authenticators: [String: any Authenticator]
    let consumers: ConsumerLookup
    let logger: Logger
    let authFailures: AuthFailures
    let limits: LimitContext
    let cache: CacheContext
    let planLimits: [String: CompiledLimit]
    let timeZone: TimeZone
    /// `limits.on-store-failure`, for the limits that do not say.
    let onStoreFailure: StoreFailureMode
    /// Renders transform and redirect templates.
    let renderer: TemplateRenderer
    /// Consumers' own address lists, checked on every route with auth.
    let consumerIPRules: IPRulePolicy?
    /// How many mirrored copies run, over all routes.
    let mirrorBudget = MirrorPolicy.Budget()

    init(
        config: GatewayConfig, loadedAt: Date, wallClock: @escaping @Sendable () -> Date,
        requestIDHeader: HTTPField.Name,
        authenticators: [String: any Authenticator], consumers: ConsumerLookup, logger: Logger,
        authFailures: AuthFailures,
        limits: LimitContext, cache: CacheContext
    ) {
        self.cache = cache
        self.authFailures = authFailures
        self.config = config
        self.loadedAt = loadedAt
        self.wallClock = wallClock
        self.requestIDHeader = requestIDHeader
        self.authenticators = authenticators
        self.consumers = consumers
        self.logger = logger
        self.limits = limits
        let timeZone = TimeZone(identifier: config.limits.timeZone) ?? TimeZone(identifier: "UTC")!
        self.timeZone = timeZone
        self.onStoreFailure = config.limits.onStoreFailure
        self.renderer = TemplateRenderer(clientAddress: limits.clientAddress)
        self.consumerIPRules = IPRulePolicy(consumers: config.consumers, clientAddress: limits.clientAddress)
        self.planLimits = config.plans.mapValues { plan in
            CompiledLimit(
                config: plan.limit, name: plan.name, scope: "plan:\(plan.name)", timeZone: timeZone,
                onStoreFailure: config.limits.onStoreFailure)
        }
    }

    /// The route's own limits (from the API, or overridden by the route), named for `RateLimit-Policy`.
    private func routeLimits(api: APIConfig, route: RouteConfig, policies: PolicyConfig) -> [CompiledLimit] {
        let limits = policies.limits.rateLimits ?? []
        let fromRoute = route.policies.limits.rateLimits != nil
        let scope =
            fromRoute
            ? "\(api.name)@\(api.version ?? "")/\(route.name ?? route.path)" : "\(api.name)@\(api.version ?? "")"
        let base = fromRoute ? "\(api.name).\(route.name ?? route.path)" : api.name
        return limits.enumerated().map { index, limit in
            let name = limit.name ?? (limits.count == 1 ? base : "\(base)-\(index + 1)")
            return CompiledLimit(
                config: limit, name: name, scope: scope + "#\(index)", timeZone: timeZone,
                onStoreFailure: onStoreFailure)
        }
    }

    func chain(api: APIConfig, route: RouteConfig, pools: [String: UpstreamPool]) -> PolicyChain {
        let policies = api.policies.overridden(by: route.policies)
        var steps: [any Policy] = []
        if let rules = policies.ipRules {
            steps.append(IPRulePolicy(route: rules, clientAddress: limits.clientAddress))
        }
        if let cors = policies.cors {
            steps.append(CORSPolicy(config: cors, routeMethods: Set(route.methods), requestIDHeader: requestIDHeader))
        }
        if let auth = AuthPolicy(
            policies: policies, authenticators: authenticators, consumers: consumers, logger: logger,
            failures: authFailures,
            clientAddress: limits.clientAddress)
        {
            steps.append(auth)
            if let consumerIPRules { steps.append(consumerIPRules) }
        }
        let ownLimits = routeLimits(api: api, route: route, policies: policies)
        let routeName = route.displayName(under: api.basePath)
        let keys = RequestKey(clientAddress: limits.clientAddress, routeName: routeName, apiName: api.name)
        if !ownLimits.isEmpty || !planLimits.isEmpty {
            // A composite endpoint may count once per declared backend call.
            let calls = route.composite.map { $0.count == .perCall ? $0.calls.count : 1 } ?? 1
            steps.append(
                RateLimitPolicy(
                    routeLimits: ownLimits, plans: planLimits, cost: (policies.limits.cost ?? 1) * calls,
                    context: limits,
                    keys: keys))
        }
        if let contract = route.contract {
            if let mode = policies.validation.validate, mode != .off {
                steps.append(
                    RequestValidationPolicy(
                        contract: contract, enforce: mode == .enforce,
                        bodyLimit: policies.forwarding.maxBodySize ?? RequestValidationPolicy.defaultBodyLimit))
            }
            if policies.validation.validateResponses == .report, contract.checksResponses {
                steps.append(ResponseValidationPolicy(contract: contract, limit: ResponseValidationPolicy.defaultLimit))
            }
        }
        if let settings = policies.cache, settings.enabled {
            var hash = ContentHash()
            hash.combine("\(api.name)@\(api.version ?? "")/\(routeName)|\(settings)".utf8)
            steps.append(
                CachePolicy(
                    config: settings, context: cache, keys: keys, scope: hash.hex, requestIDHeader: requestIDHeader))
        }
        if let compress = policies.compress {
            steps.append(AcceptEncodingPolicy(config: compress))
            steps.append(CompressPolicy(config: compress))
        }
        if let limit = policies.forwarding.maxBodySize { steps.append(BodySizeLimitPolicy(limit: limit)) }
        if let headers = HeadersPolicy(
            request: policies.forwarding.requestHeaders, response: policies.forwarding.responseHeaders)
        {
            steps.append(headers)
        }
        if let mirror = policies.mirror, pools[mirror.upstream] != nil {
            let stage = stage(for: mirror.upstream, api: api, route: route, policies: policies, pools: pools)
            steps.append(MirrorPolicy(config: mirror, stage: stage, background: cache.refresher, budget: mirrorBudget))
        }
        if let transform = TransformPolicy(
            request: policies.transforms.requestTransform, response: policies.transforms.responseTransform,
            renderer: renderer,
            strippedPrefix: api.stripBasePath ? api.basePath : nil)
        {
            steps.append(transform)
        }
        if let bodies = BodyTransformPolicy(
            request: policies.transforms.requestTransform?.body, response: policies.transforms.responseTransform?.body,
            renderer: renderer)
        {
            steps.append(bodies)
        }
        let lifecycle = api.lifecycle.overridden(by: route.lifecycle)
        let successor = lifecycle.successor.flatMap { version in
            config.apis.first { $0.name == api.name && $0.version == version }?.basePath
        }
        if let policy = LifecyclePolicy(
            lifecycle: lifecycle, successorPath: successor, loadedAt: loadedAt, now: wallClock)
        {
            steps.append(policy)
        }
        let terminal: any Policy
        if let composite = route.composite {
            terminal = compositeStage(composite, policies: policies, pools: pools)
        } else if let branch = route.branch {
            let proxy = { (upstream: String) in
                self.stage(for: upstream, api: api, route: route, policies: policies, pools: pools)
            }
            terminal = BranchStage(
                cases: branch.cases.map { ($0.condition, proxy($0.upstream)) },
                fallback: branch.defaultUpstream.map(proxy),
                readsBody: branch.readsBody, maxBodySize: branch.maxBodySize)
        } else if let respond = route.respond {
            terminal = StaticStage(config: respond, requestIDHeader: requestIDHeader)
        } else if let redirect = route.redirect {
            terminal = RedirectStage(config: redirect, renderer: renderer, requestIDHeader: requestIDHeader)
        } else if let split = route.split ?? api.split {
            let sides = split.sides.map { side in
                (side.upstream, stage(for: side.upstream, api: api, route: route, policies: policies, pools: pools))
            }
            terminal = SplitStage(sides: sides, config: split)
        } else {
            terminal = stage(for: api.upstream, api: api, route: route, policies: policies, pools: pools)
        }
        return PolicyChain(policies: steps, terminal: terminal)
    }

    /// A composite endpoint's stage: each call with the proxy of its upstream, the call's path as
    /// the upstream path (no base path stripped or added), and its deadline.
    private func compositeStage(
        _ composite: CompositeConfig, policies: PolicyConfig, pools: [String: UpstreamPool]
    ) -> CompositeStage {
        let calls = composite.calls.compactMap { call -> BackendCall? in
            // The loader checked every upstream; a pool is missing only while a test builds chains by hand.
            guard let pool = pools[call.upstream] else { return nil }
            let perTry = call.timeout ?? policies.forwarding.timeout ?? pool.config.timeout
            let proxy = ProxyStage(
                pool: pool, strippedPrefix: nil, upstreamBasePath: "", timeout: .milliseconds(perTry.milliseconds),
                retrySafe: policies.forwarding.retrySafe ?? false, requestIDHeader: requestIDHeader)
            // Without its own timeout a call may take its upstream's tries, within the total timeout.
            let deadline =
                call.timeout ?? pool.config.totalTimeout
                ?? ConfigDuration(milliseconds: perTry.milliseconds * Int64(pool.config.retries.attempts + 1) + 1000)
            return BackendCall(config: call, proxy: proxy, timeout: deadline)
        }
        return CompositeStage(
            config: composite, calls: calls, renderer: renderer, cache: cache.backends,
            requestIDHeader: requestIDHeader,
            maxBodySize: policies.forwarding.maxBodySize ?? BackendCallConfig.defaultMaxSize)
    }

    /// The proxy to an upstream, or the mock.
    private func stage(
        for upstream: String, api: APIConfig, route: RouteConfig, policies: PolicyConfig, pools: [String: UpstreamPool]
    )
        -> any Policy
    {
        guard let pool = pools[upstream] else {
            return MockStage(operation: route.mockOperation, requestIDHeader: requestIDHeader)
        }
        let timeout = policies.forwarding.timeout ?? pool.config.timeout
        return ProxyStage(
            pool: pool,
            strippedPrefix: api.stripBasePath ? api.basePath : nil,
            upstreamBasePath: api.upstreamBasePath,
            timeout: TimeAmount.milliseconds(timeout.milliseconds),
            retrySafe: policies.forwarding.retrySafe ?? false,
            requestIDHeader: requestIDHeader
        )
    }
}
