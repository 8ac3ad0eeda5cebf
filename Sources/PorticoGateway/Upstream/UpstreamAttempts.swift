import PorticoConfig

/// The tries of one proxied request: which timeout each try gets, whether a failed try is
/// retried and after what back-off, and when the request fails for good.
///
/// A state machine in the manner of AsyncHTTPClient's `Transaction+StateMachine`: the owner
/// chooses targets, sends, waits and reports; the methods take the time and return what to do.
struct UpstreamAttempts {
    enum Action {
        /// Send the request to `target`; its head must arrive within `timeout`.
        case send(UpstreamTarget, timeout: Duration)
        /// Wait this long, then choose a target again (`next(choice:now:)`).
        case retry(after: Duration)
        /// Give up with this error.
        case fail(GatewayError)
        /// Every breaker is open: the fallback or 503 with `Retry-After`.
        case unavailable(retryAfter: Duration)
        /// The answer is the request's answer: hand it to the client.
        case deliver
    }

    let settings: RetryConfig
    /// Whether this request may be tried more than once (idempotent or allowed, and bodiless).
    let retryable: Bool
    let perTry: Duration
    let deadline: ContinuousClock.Instant?
    /// Draws the jitter factor of a back-off, between 0.5 and 1.5.
    let jitter: () -> Double
    /// The targets tried so far, avoided while others remain. Made only when asked for after a
    /// try (for a retry's choice), so that a request tried once builds no set.
    var tried: Set<ObjectIdentifier> {
        guard let latest else { return earlier }
        var all = earlier
        all.insert(latest)
        return all
    }
    /// The target of the latest try, and those before it.
    private var latest: ObjectIdentifier?
    private var earlier: Set<ObjectIdentifier> = []
    /// Tries beyond the first.
    private(set) var retries = 0
    /// The timeout of the try under way.
    private(set) var currentTimeout: Duration = .zero

    init(
        settings: RetryConfig, retryable: Bool, perTry: Duration, totalTimeout: Duration?,
        start: ContinuousClock.Instant,
        jitter: @escaping () -> Double = { Double.random(in: 0.5...1.5) }
    ) {
        self.settings = settings
        self.retryable = retryable && settings.attempts > 0
        self.perTry = perTry
        self.deadline = totalTimeout.map { start + $0 }
        self.jitter = jitter
    }

    /// What to do with the pool's choice for the next try.
    mutating func next(choice: UpstreamPool.Choice, now: ContinuousClock.Instant) -> Action {
        let target: UpstreamTarget
        switch choice {
        case .target(let chosen): target = chosen
        case .open(let wait): return .unavailable(retryAfter: wait)
        case .none: return .fail(.badGateway("The upstream service has no usable target."))
        }
        if let latest { earlier.insert(latest) }
        latest = ObjectIdentifier(target)
        var timeout = perTry
        if let deadline {
            guard deadline > now else { return .fail(Self.totalTimeout) }
            timeout = min(timeout, deadline - now)
        }
        currentTimeout = timeout
        return .send(target, timeout: timeout)
    }

    /// The try failed before a response head; `takeBudget` asks the upstream's retry budget for
    /// one retry and is called only when everything else allows one.
    mutating func failed(_ failure: UpstreamFailure, now: ContinuousClock.Instant, takeBudget: () -> Bool) -> Action {
        mayRetry(failure.condition, now: now, takeBudget: takeBudget)
            ? .retry(after: backoff()) : .fail(failure.gatewayError(timeout: currentTimeout))
    }

    /// The try answered with `status`; a 5xx may be retried (after its body is drained).
    mutating func answered(status: Int, now: ContinuousClock.Instant, takeBudget: () -> Bool) -> Action {
        guard status >= 500, mayRetry(.status(status), now: now, takeBudget: takeBudget) else { return .deliver }
        return .retry(after: backoff())
    }

    static let totalTimeout = GatewayError.gatewayTimeout(
        "The upstream service did not answer within the total timeout.")

    private mutating func mayRetry(
        _ condition: RetryConfig.Condition?, now: ContinuousClock.Instant, takeBudget: () -> Bool
    ) -> Bool {
        guard retryable, retries < settings.attempts, let condition, settings.on.contains(condition) else {
            return false
        }
        if let deadline, now >= deadline { return false }
        guard takeBudget() else { return false }
        retries += 1
        return true
    }

    /// Exponential back-off with jitter: base, 2× base, 4× base… each between half and one and a
    /// half times that, capped at 1 s.
    private func backoff() -> Duration {
        let base = Double(settings.backoff.milliseconds) * Double(1 << min(retries - 1, 6))
        let milliseconds = min(base * min(max(jitter(), 0.5), 1.5), 1000)
        return .microseconds(Int64(milliseconds * 1000))
    }
}
