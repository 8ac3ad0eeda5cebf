/// Caps retries at a share of recent requests (Envoy's and Finagle's retry budget), so that
/// retries can never multiply the load on a failing upstream.
///
/// Requests and retries are counted in one-second buckets over a sliding `window`. A retry is
/// allowed while retries stay under `ratio` of the requests, plus `minimumPerSecond` so that a
/// quiet upstream can still be retried at all.
struct RetryBudget: Sendable {
    let ratio: Double
    let window: Duration
    let minimumPerSecond: Int
    private var buckets: [(second: Int64, requests: Int, retries: Int)] = []
    private let origin: ContinuousClock.Instant

    init(ratio: Double, window: Duration = .seconds(10), minimumPerSecond: Int = 3, origin: ContinuousClock.Instant) {
        self.ratio = ratio
        self.window = window
        self.minimumPerSecond = minimumPerSecond
        self.origin = origin
    }

    mutating func recordRequest(now: ContinuousClock.Instant) {
        update(now) { $0.requests += 1 }
    }

    /// Takes a retry from the budget if there is one.
    mutating func tryRetry(now: ContinuousClock.Instant) -> Bool {
        update(now) { _ in }
        let requests = buckets.reduce(0) { $0 + $1.requests }
        let retries = buckets.reduce(0) { $0 + $1.retries }
        let allowance = Double(requests) * ratio + Double(minimumPerSecond) * window.seconds
        guard Double(retries) < allowance else { return false }
        update(now) { $0.retries += 1 }
        return true
    }

    private mutating func update(
        _ now: ContinuousClock.Instant, _ change: (inout (second: Int64, requests: Int, retries: Int)) -> Void
    ) {
        let second = (now - origin).components.seconds
        let oldest = second - window.components.seconds
        buckets.removeAll { $0.second <= oldest }
        if buckets.last?.second != second { buckets.append((second, 0, 0)) }
        change(&buckets[buckets.count - 1])
    }
}

extension Duration {
    /// The duration in seconds, fractional.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
