import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import PorticoConfig
import Synchronization

/// The runtime side of one upstream: its targets with their health, breakers and load, the
/// balancer, the retry budget, and the pooled, kept-alive connections.
///
/// Each pool owns its `HTTPClient`, so its connect and idle timeouts are its own and removing the
/// upstream closes exactly its connections. The state machines are driven here under short locks;
/// the clock is passed in so the same code runs in tests. The target list can change (DNS), so it
/// is an immutable `TargetSet` swapped whole.
package final class UpstreamPool: Sendable {
    package let config: UpstreamConfig
    let client: HTTPClient
    /// The event-loop path's connections: one pool per loop.
    let connections: UpstreamConnections
    /// Whether the event-loop path's clients reach every target: HTTP/1.1 to `http://` targets, or
    /// HTTP/2 (`protocol: h2`) to either kind. Otherwise (HTTP/1.1 over TLS) requests go through `client`.
    let servesEventLoopPath: Bool
    /// The name the URL of a request to the (single) target carries instead of its host, for SNI
    /// and certificate verification (`tls.server-name`).
    let serverName: String?
    private let current: Mutex<TargetSet>
    private let breaker: Mutex<CircuitBreaker>?
    private let budget: Mutex<RetryBudget>
    private let closed = Atomic<Bool>(false)

    /// One version of the target list with the balancer state that depends on it.
    final class TargetSet: Sendable {
        let targets: [UpstreamTarget]
        let weights: [Int]
        let roundRobin: Mutex<SmoothWeightedRoundRobin>
        let ring: ConsistentHashRing?

        init(targets: [UpstreamTarget], balance: BalanceStrategy) {
            self.targets = targets
            self.weights = targets.map { max($0.config.weight, 0) }
            self.roundRobin = Mutex(SmoothWeightedRoundRobin(count: targets.count))
            self.ring =
                balance == .consistentHash
                ? ConsistentHashRing(names: targets.map { $0.config.origin + $0.config.basePath }, weights: weights)
                : nil
        }
    }

    init(config: UpstreamConfig, eventLoopGroup: any EventLoopGroup) {
        self.config = config
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .milliseconds(config.connectTimeout.milliseconds),
            read: .milliseconds(config.idleTimeout.milliseconds)
        )
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: config.maxConnections
        )
        // A refused connection should fail the request now (502), not be retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        if let tls = config.tls {
            configuration.tlsConfiguration = Self.clientTLS(tls)
            // The name is the URL's host (so SNI and verification use it), resolved to the target.
            if let name = tls.serverName, let target = config.targets.first {
                configuration.dnsOverride = [name: target.host]
            }
        }
        self.serverName = config.tls?.serverName
        self.client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        self.connections = UpstreamConnections(config: config, eventLoopGroup: eventLoopGroup)
        // HTTP/1.1 to `http://` targets, or HTTP/2 to either kind: the event-loop path's clients.
        self.servesEventLoopPath =
            config.protocol == .h2
            && (connections.h2TLS != nil
                || !(config.targets.contains { $0.scheme == "https" } || config.dns?.scheme == "https"))
            || config.targets.allSatisfy { $0.scheme == "http" } && (config.dns?.scheme ?? "http") == "http"
        var targets = config.targets.map { UpstreamTarget(config: $0, upstream: config) }
        if let dns = config.dns, let addresses = try? DNSResolver.resolve(dns.name, family: dns.family) {
            targets += addresses.map { UpstreamTarget(config: Self.target(address: $0, dns: dns), upstream: config) }
        }
        self.current = Mutex(TargetSet(targets: targets, balance: config.balance))
        self.breaker = config.circuitBreaker.map { Mutex(CircuitBreaker(settings: $0)) }
        self.budget = Mutex(RetryBudget(ratio: config.retries.budget, origin: .now))
    }

    /// The client side of `tls`: the private CA instead of the system's roots, the client certificate.
    static func clientTLS(_ tls: UpstreamTLSConfig) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca = tls.caPEM, let roots = try? NIOSSLCertificate.fromPEMBytes(ca), !roots.isEmpty {
            configuration.trustRoots = .certificates(roots)
        }
        if let cert = tls.certPEM, let key = tls.keyPEM, let chain = try? NIOSSLCertificate.fromPEMBytes(cert),
            let privateKey = try? NIOSSLPrivateKey(bytes: key, format: .pem)
        {
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey)
        }
        return configuration
    }

    /// Where a request to `target` is sent: its origin, or the server name's over the same port.
    func origin(of target: TargetConfig) -> String {
        guard let serverName else { return target.origin }
        return "\(target.scheme)://\(serverName):\(target.port)"
    }

    /// The targets now: the configured ones, then those from DNS.
    package var targets: [UpstreamTarget] { current.withLock { $0.targets } }

    // MARK: Choosing a target

    /// The result of asking for a target.
    enum Choice {
        case target(UpstreamTarget)
        /// Every breaker that could let the call through is open.
        case open(retryAfter: Duration)
        /// There is no target at all (DNS gave none yet).
        case none
    }

    /// Whether the upstream's own breaker lets a request through.
    func admit(now: ContinuousClock.Instant) -> CircuitBreaker.Decision {
        breaker?.withLock { $0.acquire(now: now) } ?? .allow
    }

    /// Picks a target for one try, avoiding `excluding` (the targets already tried) while others remain.
    ///
    /// Targets that are drained, unhealthy, ejected or behind an open breaker are skipped; if that
    /// leaves none, health is ignored (fail open), since refusing everything helps no one.
    func choose(hashKey: String?, excluding: Set<ObjectIdentifier>, now: ContinuousClock.Instant) -> Choice {
        let set = current.withLock { $0 }
        // One look at each target (one lock each), then the choice from those standings.
        var usable: [(index: Int, standing: UpstreamTarget.Standing, fresh: Bool)] = []
        usable.reserveCapacity(set.targets.count)
        for (index, target) in set.targets.enumerated() where set.weights[index] > 0 {
            let standing = target.standing(now: now)
            if !standing.drained { usable.append((index, standing, !excluding.contains(ObjectIdentifier(target)))) }
        }
        guard !usable.isEmpty else { return .none }
        let candidates = usable.contains(where: \.fresh) ? usable.filter(\.fresh) : usable
        let allowed = candidates.filter { $0.standing.retryAfter == nil }
        guard !allowed.isEmpty else {
            return .open(retryAfter: candidates.compactMap(\.standing.retryAfter).min() ?? .seconds(1))
        }
        let healthy = allowed.filter(\.standing.available)
        let eligible = (healthy.isEmpty ? allowed : healthy).map(\.index)
        guard let index = pick(among: eligible, in: set, hashKey: hashKey), set.targets[index].acquireBreaker(now: now)
        else {
            return .open(retryAfter: .seconds(1))
        }
        return .target(set.targets[index])
    }

    private func pick(among eligible: [Int], in set: TargetSet, hashKey: String?) -> Int? {
        var random = SystemRandomNumberGenerator()
        switch config.balance {
        case .roundRobin:
            return set.roundRobin.withLock { $0.pick(eligible: eligible, weights: set.weights) }
        case .random:
            return WeightedRandom.pick(eligible: eligible, weights: set.weights, using: &random)
        case .leastRequest:
            return LeastRequest.pick(
                eligible: eligible, weights: set.weights,
                inFlight: { set.targets[$0].inFlight.load(ordering: .relaxed) },
                using: &random)
        case .consistentHash:
            guard let hashKey, let ring = set.ring else {
                return WeightedRandom.pick(eligible: eligible, weights: set.weights, using: &random)
            }
            return ring.pick(key: hashKey, eligible: Set(eligible))
        }
    }

    // MARK: Outcomes

    /// How a try went, for the breakers and passive health.
    enum TryOutcome {
        case success(Duration)
        case failure
        /// The client's fault (its body broke off or was malformed): not the upstream's.
        case clientFault
    }

    /// Feeds one try's outcome to the target's breaker and outlier detection.
    func report(_ outcome: TryOutcome, target: UpstreamTarget, now: ContinuousClock.Instant) {
        target.record(outcome, now: now)
    }

    /// Feeds a whole request's outcome to the upstream's breaker.
    func reportRequest(_ outcome: TryOutcome, now: ContinuousClock.Instant) {
        breaker?.withLock { _ = $0.record(outcome.breakerOutcome, now: now) }
    }

    func recordRequestForBudget(now: ContinuousClock.Instant) {
        budget.withLock { $0.recordRequest(now: now) }
    }

    func takeRetryFromBudget(now: ContinuousClock.Instant) -> Bool {
        budget.withLock { $0.tryRetry(now: now) }
    }

    /// The upstream breaker's state (`closed`, `open`, `half-open`) for the admin API; nil without a breaker.
    package var breakerStateName: String? {
        let now = ContinuousClock.now
        return breaker?.withLock { breaker in
            if case .open(let until) = breaker.state, now >= until { return "half-open" }
            return breaker.state.name
        }
    }

    // MARK: DNS

    static func target(address: String, dns: DNSTargetsConfig) -> TargetConfig {
        let defaultPort = dns.scheme == "https" ? 443 : 80
        return TargetConfig(
            scheme: dns.scheme, host: address, port: dns.port, weight: dns.weight,
            hostHeader: dns.port == defaultPort ? dns.name : "\(dns.name):\(dns.port)")
    }

    /// Replaces the DNS targets with `addresses`, keeping the state of the ones that stay.
    /// Returns whether the list changed.
    @discardableResult
    func updateDNSTargets(_ addresses: [String]) -> Bool {
        guard let dns = config.dns else { return false }
        return current.withLock { set in
            let fixed = Array(set.targets.prefix(config.targets.count))
            let old = set.targets.dropFirst(config.targets.count)
            let resolved = addresses.map { address in
                old.first { $0.config.host == address }
                    ?? UpstreamTarget(config: Self.target(address: address, dns: dns), upstream: config)
            }
            guard resolved.map(ObjectIdentifier.init) != old.map(ObjectIdentifier.init) else { return false }
            set = TargetSet(targets: fixed + resolved, balance: config.balance)
            return true
        }
    }

    // MARK: Lifecycle

    /// Closes the pooled connections; callers first wait for the requests using them.
    package func shutdown() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await connections.shutdown()
        try? await client.shutdown()
    }

    /// True once `shutdown()` has been called.
    package var isClosed: Bool { closed.load(ordering: .acquiring) }
}

extension UpstreamPool.TryOutcome {
    var breakerOutcome: CircuitBreaker.Outcome {
        switch self {
        case .success(let duration): return .success(duration)
        case .failure: return .failure
        case .clientFault: return .abandoned
        }
    }
}
