import PorticoConfig

/// A circuit breaker as a state machine: closed, open, half-open.
///
/// Closed, it keeps the outcomes of the last `window` calls; once at least `minimumCalls` are in
/// and the share of failures (slow calls count as failures) reaches `failureRate`, it opens. Open,
/// it refuses calls until `openFor` has passed, then lets `halfOpenCalls` probes through: if they
/// all succeed it closes, one failure opens it again. The owner passes the time in, so tests drive
/// it with a made-up clock.
struct CircuitBreaker: Sendable {
    enum State: Sendable, Equatable {
        case closed
        case open(until: ContinuousClock.Instant)
        case halfOpen(started: Int, succeeded: Int)

        var name: String {
            switch self {
            case .closed: return "closed"
            case .open: return "open"
            case .halfOpen: return "half-open"
            }
        }
    }

    /// What to do with a call.
    enum Decision: Sendable, Equatable {
        case allow
        /// Refuse; the breaker may let calls through after this long.
        case reject(retryAfter: Duration)
    }

    /// How a call went.
    enum Outcome: Sendable {
        case success(Duration)
        case failure
        /// The call ended for a reason of the client's (a broken request body): it says nothing
        /// about the upstream, so it is not counted, and a half-open probe it held is given back.
        case abandoned
    }

    let settings: CircuitBreakerConfig
    private(set) var state: State = .closed
    /// The last outcomes while closed, true for a failure; a ring of `window` entries.
    private var outcomes: [Bool] = []
    private var next = 0

    init(settings: CircuitBreakerConfig) {
        self.settings = settings
    }

    /// Whether `acquire` would let a call through now, without counting it.
    func wouldAllow(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: return true
        case .open(let until): return now >= until
        case .halfOpen(let started, _): return started < settings.halfOpenCalls
        }
    }

    /// Whether a call may go now. A half-open breaker counts the probes it lets through.
    mutating func acquire(now: ContinuousClock.Instant) -> Decision {
        switch state {
        case .closed:
            return .allow
        case .open(let until):
            guard now >= until else { return .reject(retryAfter: until - now) }
            state = .halfOpen(started: 1, succeeded: 0)
            return .allow
        case .halfOpen(let started, let succeeded):
            guard started < settings.halfOpenCalls else { return .reject(retryAfter: .seconds(1)) }
            state = .halfOpen(started: started + 1, succeeded: succeeded)
            return .allow
        }
    }

    /// Records a call's outcome; returns the new state when it changed.
    @discardableResult
    mutating func record(_ outcome: Outcome, now: ContinuousClock.Instant) -> State? {
        let failed: Bool
        switch outcome {
        case .abandoned:
            if case .halfOpen(let started, let succeeded) = state {
                state = .halfOpen(started: max(0, started - 1), succeeded: succeeded)
            }
            return nil
        case .failure: failed = true
        case .success(let duration): failed = settings.slowCall.map { duration > $0.duration } ?? false
        }
        switch state {
        case .closed:
            if outcomes.count < settings.window {
                outcomes.append(failed)
            } else {
                outcomes[next] = failed
            }
            next = (next + 1) % settings.window
            let failures = outcomes.filter { $0 }.count
            guard outcomes.count >= settings.minCalls,
                Double(failures) / Double(outcomes.count) >= settings.failureRate
            else { return nil }
            return open(now: now)
        case .open:
            return nil
        case .halfOpen(let started, let succeeded):
            if failed { return open(now: now) }
            guard succeeded + 1 >= settings.halfOpenCalls else {
                state = .halfOpen(started: started, succeeded: succeeded + 1)
                return nil
            }
            state = .closed
            outcomes.removeAll()
            next = 0
            return state
        }
    }

    private mutating func open(now: ContinuousClock.Instant) -> State {
        state = .open(until: now + settings.openFor.duration)
        outcomes.removeAll()
        next = 0
        return state
    }
}
