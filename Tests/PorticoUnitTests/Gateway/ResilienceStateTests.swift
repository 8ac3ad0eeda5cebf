import PorticoConfig
import PorticoTesting
import Testing

@testable import PorticoGateway

@Suite("Balancers")
struct BalancerTests {
    func within5Percent(_ counts: [Int], weights: [Int], picks: Int) {
        let total = weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            let expected = Double(picks * weight) / Double(total)
            #expect(
                abs(Double(counts[index]) - expected) <= expected * 0.05,
                "target \(index): \(counts[index]) vs \(expected)")
        }
    }

    @Test("smooth weighted round robin follows the weights and spreads a heavy target's picks")
    func smoothRoundRobin() {
        var balancer = SmoothWeightedRoundRobin(count: 3)
        let weights = [5, 1, 1]
        let first = (0..<7).map { _ in balancer.pick(eligible: [0, 1, 2], weights: weights)! }
        #expect(first == [0, 0, 1, 0, 2, 0, 0])  // nginx's sequence for 5,1,1: a a b a c a a
        var counts = [0, 0, 0]
        for _ in 0..<10_000 { counts[balancer.pick(eligible: [0, 1, 2], weights: weights)!] += 1 }
        within5Percent(counts, weights: weights, picks: 10_000)
        do {
            let ok = balancer.pick(eligible: [1], weights: weights) == 1
            #expect(ok)
        }
        do {
            let ok = balancer.pick(eligible: [0, 1], weights: [0, 0, 1]) == nil
            #expect(ok)
        }
    }

    @Test("random and least-request follow the weights when load is even")
    func randomAndLeastRequest() {
        var random = SplitMix64(state: 42)
        let weights = [2, 1, 1]
        var counts = [0, 0, 0]
        for _ in 0..<10_000 {
            counts[WeightedRandom.pick(eligible: [0, 1, 2], weights: weights, using: &random)!] += 1
        }
        within5Percent(counts, weights: weights, picks: 10_000)

        counts = [0, 0, 0]
        for _ in 0..<10_000 {
            counts[
                LeastRequest.pick(eligible: [0, 1, 2], weights: [1, 1, 1], inFlight: { _ in 0 }, using: &random)!] += 1
        }
        within5Percent(counts, weights: [1, 1, 1], picks: 10_000)
    }

    @Test("least-request prefers the less loaded of two draws")
    func leastRequestAvoidsLoad() {
        var random = SplitMix64(state: 7)
        let load = [50, 0, 0]
        var busy = 0
        for _ in 0..<1000 {
            if LeastRequest.pick(eligible: [0, 1, 2], weights: [1, 1, 1], inFlight: { load[$0] }, using: &random) == 0 {
                busy += 1
            }
        }
        #expect(busy == 0)
    }

    @Test("consistent hashing is stable and moves about 1/N of the keys to a new target only")
    func consistentHashing() {
        let names = ["http://a:1", "http://b:1", "http://c:1"]
        let ring = ConsistentHashRing(names: names, weights: [1, 1, 1])
        let keys = (0..<10_000).map { "user-\($0)" }
        let before = keys.map { ring.pick(key: $0, eligible: [0, 1, 2])! }
        #expect(keys.map { ring.pick(key: $0, eligible: [0, 1, 2])! } == before)
        var counts = [0, 0, 0]
        for target in before { counts[target] += 1 }
        for count in counts { #expect(abs(count - 3333) < 600, "\(counts)") }

        let grown = ConsistentHashRing(names: names + ["http://d:1"], weights: [1, 1, 1, 1])
        let after = keys.map { grown.pick(key: $0, eligible: [0, 1, 2, 3])! }
        let moved = zip(before, after).filter { $0 != $1 }
        #expect(moved.allSatisfy { $0.1 == 3 })
        #expect(Double(moved.count) / Double(keys.count) < 0.25 * 1.25, "\(moved.count) moved")

        // An ineligible target's keys go to the next point on the ring; the others stay.
        let without1 = keys.map { ring.pick(key: $0, eligible: [0, 2])! }
        #expect(zip(before, without1).allSatisfy { $0 == 1 || $0 == $1 })
    }
}

@Suite("Health, breaker and retry budget state machines")
struct HealthStateTests {
    let start = ContinuousClock.now

    @Test("the breaker opens on the failure rate, half-opens after open-for, and closes on good probes")
    func breaker() {
        var settings = CircuitBreakerConfig()
        settings.failureRate = 0.5
        settings.window = 10
        settings.minCalls = 4
        settings.openFor = .seconds(30)
        settings.halfOpenCalls = 2
        var breaker = CircuitBreaker(settings: settings)
        do {
            let ok = breaker.record(.failure, now: start) == nil
            #expect(ok)
        }
        do {
            let ok = breaker.record(.failure, now: start) == nil
            #expect(ok)
        }
        do {
            let ok = breaker.record(.success(.milliseconds(5)), now: start) == nil
            #expect(ok)  // 2 of 3, under min-calls
        }
        do {
            let ok = breaker.record(.success(.milliseconds(5)), now: start)?.name == "open"
            #expect(ok)  // 2 of 4 = 50%
        }
        do {
            let ok = breaker.acquire(now: start + .seconds(10)) == .reject(retryAfter: .seconds(20))
            #expect(ok)
        }
        #expect(!breaker.wouldAllow(now: start + .seconds(29)))

        let later = start + .seconds(30)
        do {
            let ok = breaker.acquire(now: later) == .allow
            #expect(ok)
        }
        #expect(breaker.state.name == "half-open")
        do {
            let ok = breaker.acquire(now: later) == .allow
            #expect(ok)
        }
        do {
            let ok = breaker.acquire(now: later) == .reject(retryAfter: .seconds(1))
            #expect(ok)  // only 2 probes
        }
        do {
            let ok = breaker.record(.success(.milliseconds(5)), now: later) == nil
            #expect(ok)
        }
        do {
            let ok = breaker.record(.success(.milliseconds(5)), now: later) == .closed
            #expect(ok)
        }
        do {
            let ok = breaker.acquire(now: later) == .allow
            #expect(ok)
        }
    }

    @Test("a failed probe opens the breaker again; slow calls count as failures")
    func breakerReopensAndSlowCalls() {
        var settings = CircuitBreakerConfig()
        settings.window = 4
        settings.minCalls = 4
        settings.slowCall = .init(milliseconds: 100)
        settings.openFor = .seconds(5)
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<2 { breaker.record(.success(.milliseconds(10)), now: start) }
        breaker.record(.success(.milliseconds(500)), now: start)
        do {
            let ok = breaker.record(.success(.milliseconds(500)), now: start)?.name == "open"
            #expect(ok)
        }
        let probe = start + .seconds(5)
        do {
            let ok = breaker.acquire(now: probe) == .allow
            #expect(ok)
        }
        do {
            let ok = breaker.record(.failure, now: probe) == .open(until: probe + .seconds(5))
            #expect(ok)
        }
        // The window is a sliding one: old outcomes leave it.
        var sliding = CircuitBreaker(settings: settings)
        for outcome: CircuitBreaker.Outcome in [
            .failure, .success(.zero), .success(.zero), .success(.zero), .success(.zero), .failure,
        ] {
            sliding.record(outcome, now: start)
        }
        #expect(sliding.state == .closed)
    }

    @Test("passive health ejects after consecutive failures, for a growing back-off")
    func outlierDetection() {
        var settings = PassiveHealthConfig()
        settings.consecutiveFailures = 3
        settings.ejection = .seconds(10)
        var detector = OutlierDetector(settings: settings)
        do {
            let ok = !detector.recordFailure(now: start)
            #expect(ok)
        }
        detector.recordSuccess(now: start)  // resets the count
        do {
            let ok = !detector.recordFailure(now: start)
            #expect(ok)
        }
        do {
            let ok = !detector.recordFailure(now: start)
            #expect(ok)
        }
        do {
            let ok = detector.recordFailure(now: start)
            #expect(ok)
        }
        #expect(detector.isEjected(now: start + .seconds(9)))
        #expect(!detector.isEjected(now: start + .seconds(10)))
        // Failing again right after readmission doubles the ejection.
        let back = start + .seconds(10)
        for _ in 0..<2 { _ = detector.recordFailure(now: back) }
        do {
            let ok = detector.recordFailure(now: back)
            #expect(ok)
        }
        #expect(detector.isEjected(now: back + .seconds(19)))
        #expect(!detector.isEjected(now: back + .seconds(20)))
    }

    @Test("active health needs the thresholds in a row to change")
    func activeHealth() {
        var settings = ActiveHealthConfig()
        settings.healthy = 2
        settings.unhealthy = 3
        var health = ActiveHealth(settings: settings)
        do {
            let ok = health.record(passed: false) == nil
            #expect(ok)
        }
        do {
            let ok = health.record(passed: false) == nil
            #expect(ok)
        }
        do {
            let ok = health.record(passed: true) == nil
            #expect(ok)  // the streak breaks
        }
        for _ in 0..<2 {
            let changed = health.record(passed: false)
            #expect(changed == nil)
        }
        do {
            let ok = health.record(passed: false) == false
            #expect(ok)
        }
        do {
            let ok = health.record(passed: true) == nil
            #expect(ok)
        }
        do {
            let ok = health.record(passed: true) == true
            #expect(ok)
        }
        #expect(health.accepts(status: 204) && !health.accepts(status: 500))
    }

    @Test("the retry budget allows a share of recent requests, over a sliding window")
    func retryBudget() {
        var budget = RetryBudget(ratio: 0.2, window: .seconds(10), minimumPerSecond: 0, origin: start)
        for _ in 0..<100 { budget.recordRequest(now: start) }
        var granted = 0
        while budget.tryRetry(now: start) { granted += 1 }
        #expect(granted == 20)
        // Ten seconds later the old requests have left the window.
        do {
            let ok = !budget.tryRetry(now: start + .seconds(5))
            #expect(ok)
        }
        do {
            let ok = !budget.tryRetry(now: start + .seconds(10))
            #expect(ok)
        }
        for _ in 0..<10 { budget.recordRequest(now: start + .seconds(10)) }
        do {
            let ok = budget.tryRetry(now: start + .seconds(10))
            #expect(ok)
        }
        do {
            let ok = budget.tryRetry(now: start + .seconds(10))
            #expect(ok)
        }
        do {
            let ok = !budget.tryRetry(now: start + .seconds(10))
            #expect(ok)
        }

        var quiet = RetryBudget(ratio: 0.2, window: .seconds(10), minimumPerSecond: 3, origin: start)
        var allowed = 0
        while quiet.tryRetry(now: start) { allowed += 1 }
        #expect(allowed == 30)
    }
}
