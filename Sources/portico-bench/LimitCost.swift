import Foundation
import PorticoConfig
import PorticoGateway

/// The in-memory limiter's decision cost and memory, for bench/ratelimit.sh.
///
/// Decisions: a GCRA limit, 100,000 distinct keys visited in a shuffled order, timed in batches
/// of 1,000 decisions; the median batch over all rounds, per decision. Memory: the resident size
/// grown by holding 1,000,000 keys (the default max-keys), per key.
enum LimitCost {
    static func run(keys count: Int, rounds: Int) {
        let limit = CompiledLimit(
            config: LimitConfig(rate: RateSpec(count: 100, period: 1), burst: 100), name: "bench", scope: "bench",
            timeZone: TimeZone(identifier: "UTC")!)
        let store = InMemoryLimiterStore()
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<count).map { "consumer-\($0)" }.shuffled(using: &generator)
        var batches: [Double] = []
        var now = LimitContext.wallClockNanoseconds()
        for _ in 0..<rounds {
            var index = 0
            while index < keys.count {
                let start = ContinuousClock.now
                for key in keys[index..<min(index + 1000, keys.count)] {
                    _ = store.decide(key, limit: limit, cost: 1, now: now)
                }
                let elapsed = ContinuousClock.now - start
                batches.append(Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9)
                index += 1000
            }
            now += 1_000_000
        }
        batches.sort()
        let median = batches[batches.count / 2] / 1000
        let p99 = batches[batches.count * 99 / 100] / 1000
        print(
            String(
                format:
                    "decision: %d keys x %d rounds, median %.0f ns, p99 batch %.0f ns per decision (target < 1000 ns)",
                count, rounds, median, p99))

        let before = residentBytes()
        let big = InMemoryLimiterStore(maxKeys: 1_000_000)
        for index in 0..<1_000_000 { _ = big.decide("client-\(index)", limit: limit, cost: 1, now: now) }
        let grown = residentBytes() - before
        print(
            String(
                format: "memory: %d keys held, resident +%.1f MiB, %.0f bytes per key", big.count,
                Double(grown) / 1_048_576, Double(grown) / Double(big.count)))
        for index in 1_000_000..<1_200_000 { _ = big.decide("client-\(index)", limit: limit, cost: 1, now: now) }
        print(
            String(
                format: "after 200,000 more keys: %d held (max-keys 1,000,000), resident +%.1f MiB", big.count,
                Double(residentBytes() - before) / 1_048_576))
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
