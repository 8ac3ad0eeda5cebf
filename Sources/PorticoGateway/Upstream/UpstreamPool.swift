import AsyncHTTPClient
import Logging
import NIOCore
import PorticoConfig
import Synchronization

/// The runtime side of one upstream: its targets with their health, breakers and load, the
/// balancer, the retry budget, and the pooled, kept-alive connections.
///
/// Each pool owns its `HTTPClient`, so its connect and idle timeouts are its own and removing the
/// upstream closes exactly its connections. The state machines are driven here under short locks;
/// the clock is passed in so the same code runs in tests.
public final class UpstreamPool: Sendable {
    public let config: UpstreamConfig
    let client: HTTPClient
    /// The targets, in config order.
    public let targets: [UpstreamTarget]
    private let weights: [Int]
    private let roundRobin: Mutex<SmoothWeightedRoundRobin>
    private let ring: ConsistentHashRing?
    private let breaker: Mutex<CircuitBreaker>?
    private let budget: Mutex<RetryBudget>
    private let closed = Atomic<Bool>(false)

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
        self.client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        self.targets = config.targets.enumerated().map { UpstreamTarget(config: $1, index: $0, upstream: config) }
        self.weights = config.targets.map { max($0.weight, 0) }
        self.roundRobin = Mutex(SmoothWeightedRoundRobin(count: config.targets.count))
        self.ring = config.balance == .consistentHash
            ? ConsistentHashRing(names: config.targets.map { $0.origin + $0.basePath }, weights: weights) : nil
        self.breaker = config.circuitBreaker.map { Mutex(CircuitBreaker(settings: $0)) }
        self.budget = Mutex(RetryBudget(ratio: config.retries.budget, origin: .now))
    }

    // MARK: Choosing a target

    /// The result of asking for a target.
    enum Choice {
        case target(UpstreamTarget)
        /// Every breaker that could let the call through is open.
        case open(retryAfter: Duration)
    }

    /// Whether the upstream's own breaker lets a request through.
    func admit(now: ContinuousClock.Instant) -> CircuitBreaker.Decision {
        breaker?.withLock { $0.acquire(now: now) } ?? .allow
    }

    /// Picks a target for one try, avoiding `excluding` (the targets already tried) while others remain.
    ///
    /// Targets that are drained, unhealthy, ejected or behind an open breaker are skipped; if that
    /// leaves none, health is ignored (fail open), since refusing everything helps no one.
    func choose(hashKey: String?, excluding: Set<Int>, now: ContinuousClock.Instant) -> Choice {
        let usable = targets.filter { weights[$0.index] > 0 && !$0.isDrained }
        let fresh = usable.filter { !excluding.contains($0.index) }
        let candidates = fresh.isEmpty ? usable : fresh
        var allowed = candidates.filter { $0.breakerAllows(now: now) }
        if allowed.isEmpty {
            let wait = candidates.compactMap { $0.breakerRetryAfter(now: now) }.min() ?? .seconds(1)
            return .open(retryAfter: wait)
        }
        let healthy = allowed.filter { $0.isAvailable(now: now) }
        if !healthy.isEmpty { allowed = healthy }
        guard let index = pick(among: allowed.map(\.index), hashKey: hashKey), targets[index].acquireBreaker(now: now) else {
            return .open(retryAfter: .seconds(1))
        }
        return .target(targets[index])
    }

    private func pick(among eligible: [Int], hashKey: String?) -> Int? {
        var random = SystemRandomNumberGenerator()
        switch config.balance {
        case .roundRobin:
            return roundRobin.withLock { $0.pick(eligible: eligible, weights: weights) }
        case .random:
            return WeightedRandom.pick(eligible: eligible, weights: weights, using: &random)
        case .leastRequest:
            return LeastRequest.pick(
                eligible: eligible, weights: weights, inFlight: { self.targets[$0].inFlight.load(ordering: .relaxed) },
                using: &random)
        case .consistentHash:
            guard let hashKey, let ring else { return WeightedRandom.pick(eligible: eligible, weights: weights, using: &random) }
            return ring.pick(key: hashKey, eligible: Set(eligible))
        }
    }

    // MARK: Outcomes

    /// How a try went, for the breakers and passive health.
    enum TryOutcome {
        case success(Duration)
        case failure
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
    public var breakerStateName: String? {
        let now = ContinuousClock.now
        return breaker?.withLock { breaker in
            if case .open(let until) = breaker.state, now >= until { return "half-open" }
            return breaker.state.name
        }
    }

    // MARK: Lifecycle

    /// Closes the pooled connections; callers first wait for the requests using them.
    func shutdown() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await client.shutdown()
    }

    /// True once `shutdown()` has been called.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }
}

extension UpstreamPool.TryOutcome {
    var breakerOutcome: CircuitBreaker.Outcome {
        switch self {
        case .success(let duration): return .success(duration)
        case .failure: return .failure
        }
    }
}
