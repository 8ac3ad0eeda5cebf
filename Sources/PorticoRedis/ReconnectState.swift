/// When one pooled connection should be (re)opened: at once the first time, then after a
/// back-off that doubles with each failure in a row, from `minimumDelay` to `maximumDelay`,
/// and resets once a connection is up. A state machine: the owner reports what happened and
/// performs the action it gets back.
package struct ReconnectState: Sendable {
    package enum State: Sendable, Hashable {
        case idle
        case connecting
        case connected
        /// Waiting until `until` to connect again, after `failures` failures in a row.
        case waiting(until: ContinuousClock.Instant, failures: Int)
        case shutDown
    }

    package enum Action: Sendable, Hashable {
        case connect
        case connectAfter(Duration)
        case none
    }

    package private(set) var state = State.idle
    private var failures = 0
    let minimumDelay: Duration
    let maximumDelay: Duration

    package init(minimumDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(5)) {
        self.minimumDelay = minimumDelay
        self.maximumDelay = maximumDelay
    }

    package mutating func start() -> Action {
        guard case .idle = state else { return .none }
        state = .connecting
        return .connect
    }

    package mutating func connected() {
        guard state != .shutDown else { return }
        failures = 0
        state = .connected
    }

    /// The connection attempt failed, or an open connection closed.
    package mutating func lost(now: ContinuousClock.Instant) -> Action {
        guard state != .shutDown else { return .none }
        // A connection that was up is retried after the shortest wait; failed attempts back off.
        let wasUp = state == .connected
        if !wasUp { failures += 1 }
        let delay = wasUp ? minimumDelay : backoff(failures: failures)
        state = .waiting(until: now + delay, failures: failures)
        return .connectAfter(delay)
    }

    /// The wait is over: connect.
    package mutating func retry() -> Action {
        guard case .waiting = state else { return .none }
        state = .connecting
        return .connect
    }

    package mutating func shutDown() {
        state = .shutDown
    }

    func backoff(failures: Int) -> Duration {
        var delay = minimumDelay
        for _ in 1..<max(1, failures) {
            delay = delay * 2
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }
}
