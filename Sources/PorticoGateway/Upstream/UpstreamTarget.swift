import PorticoConfig
import Synchronization

/// One target of an upstream and what the gateway knows about it right now.
package final class UpstreamTarget: Sendable {
    package let config: TargetConfig
    /// Requests sent to it and not yet finished (least-request balances on this).
    package let inFlight = Atomic<Int>(0)
    private let state: Mutex<State>

    struct State {
        var breaker: CircuitBreaker?
        var outlier: OutlierDetector?
        var active: ActiveHealth?
        var drained = false
        var requests = 0
        var failures = 0
        var lastLatency: Duration?
    }

    init(config: TargetConfig, upstream: UpstreamConfig) {
        self.config = config
        self.state = Mutex(
            State(
                breaker: upstream.circuitBreaker.map { CircuitBreaker(settings: $0) },
                outlier: upstream.passiveHealth.map { OutlierDetector(settings: $0) },
                active: upstream.activeHealth.map { ActiveHealth(settings: $0) }
            ))
    }

    var isDrained: Bool { state.withLock { $0.drained } }

    /// What choosing a target needs to know about it, read under one lock.
    struct Standing {
        var drained: Bool
        /// Nil when the breaker lets a call through; otherwise how long until it may.
        var retryAfter: Duration?
        /// Healthy by active checks and not ejected by passive health.
        var available: Bool
    }

    func standing(now: ContinuousClock.Instant) -> Standing {
        state.withLock { state in
            var retryAfter: Duration?
            if let breaker = state.breaker, !breaker.wouldAllow(now: now) {
                if case .open(let until) = breaker.state {
                    retryAfter = max(until - now, .zero)
                } else {
                    retryAfter = .seconds(1)
                }
            }
            return Standing(
                drained: state.drained,
                retryAfter: retryAfter,
                available: (state.active?.isHealthy ?? true) && !(state.outlier?.isEjected(now: now) ?? false))
        }
    }

    /// Counts the call in a half-open breaker; false if the breaker refuses it after all.
    func acquireBreaker(now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            guard state.breaker != nil else { return true }
            return state.breaker!.acquire(now: now) == .allow
        }
    }

    func record(_ outcome: UpstreamPool.TryOutcome, now: ContinuousClock.Instant) {
        state.withLock { state in
            state.breaker?.record(outcome.breakerOutcome, now: now)
            if case .clientFault = outcome { return }
            state.requests += 1
            switch outcome {
            case .success(let latency):
                state.lastLatency = latency
                state.outlier?.recordSuccess(now: now)
            case .failure:
                state.failures += 1
                _ = state.outlier?.recordFailure(now: now)
            case .clientFault:
                break
            }
        }
    }

    /// Records an active probe; returns the new health when it changed.
    func recordProbe(passed: Bool) -> Bool? {
        state.withLock { $0.active?.record(passed: passed) ?? nil }
    }

    /// Takes the target out of rotation (or puts it back) without a config change; kept across
    /// reloads that keep the upstream.
    package func setDrained(_ drained: Bool) {
        state.withLock { $0.drained = drained }
    }

    /// A snapshot of the target's state for the admin API.
    package struct Report: Sendable {
        package var healthy: Bool
        package var ejected: Bool
        package var drained: Bool
        /// `closed`, `open` or `half-open`; nil without a breaker.
        package var breaker: String?
        package var inFlight: Int
        package var requests: Int
        package var failures: Int
        package var lastLatency: Duration?
    }

    package func report(now: ContinuousClock.Instant) -> Report {
        let inFlight = inFlight.load(ordering: .relaxed)
        return state.withLock { state in
            Report(
                healthy: state.active?.isHealthy ?? true,
                ejected: state.outlier?.isEjected(now: now) ?? false,
                drained: state.drained,
                breaker: state.breaker.map { breaker in
                    if case .open(let until) = breaker.state, now >= until { return "half-open" }
                    return breaker.state.name
                },
                inFlight: inFlight,
                requests: state.requests,
                failures: state.failures,
                lastLatency: state.lastLatency
            )
        }
    }
}
