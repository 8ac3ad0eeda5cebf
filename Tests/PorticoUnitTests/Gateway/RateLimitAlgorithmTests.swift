import Foundation
import HTTPTypes
import PorticoConfig
import Testing

@testable import PorticoGateway

@Suite("Rate-limit algorithms with an injected clock")
struct RateLimitAlgorithmTests {
    static let second: Int64 = 1_000_000_000

    func limit(
        _ text: String, burst: Int? = nil, quota: String? = nil, algorithm: LimitConfig.Algorithm = .gcra,
        zone: String = "UTC"
    )
        -> CompiledLimit
    {
        var config = LimitConfig(
            rate: RateSpec(parsing: text), burst: burst, quota: quota.flatMap(QuotaSpec.init(parsing:)))
        config.algorithm = algorithm
        return CompiledLimit(config: config, name: "test", scope: "test", timeZone: TimeZone(identifier: zone)!)
    }

    /// How many of `count` requests at `now` are allowed.
    func admitted(
        _ limit: CompiledLimit, _ entry: inout CompiledLimit.Entry, count: Int, now: Int64, cost: Int = 1
    ) -> Int {
        (0..<count).filter { _ in limit.apply(to: &entry, cost: cost, now: now).allSatisfy(\.allowed) }.count
    }

    @Test("GCRA: exactly the burst at once, then one per interval, exact at the boundary")
    func gcraBurstAndRefill() {
        let limit = limit("5/s", burst: 10)
        var entry = CompiledLimit.Entry()
        let t0: Int64 = 1_000 * Self.second
        #expect(admitted(limit, &entry, count: 15, now: t0) == 10)
        // 200 ms per request: 1 µs before the interval, nothing; at it, exactly one.
        #expect(admitted(limit, &entry, count: 3, now: t0 + Self.second / 5 - 1_000) == 0)
        #expect(admitted(limit, &entry, count: 3, now: t0 + Self.second / 5) == 1)
        // A full second later: five more.
        #expect(admitted(limit, &entry, count: 10, now: t0 + Self.second / 5 + Self.second) == 5)
        // Idle long enough, the whole burst is back, not more.
        #expect(admitted(limit, &entry, count: 20, now: t0 + 100 * Self.second) == 10)
    }

    @Test("GCRA: the decision reports remaining, reset and retry-after")
    func gcraDecision() {
        let limit = limit("10/m", burst: 2)
        var entry = CompiledLimit.Entry()
        let t0: Int64 = 5_000 * Self.second
        let first = limit.apply(to: &entry, cost: 1, now: t0)[0]
        #expect(first.allowed && first.remaining == 1 && first.quota == 2 && first.window == 12)
        let second = limit.apply(to: &entry, cost: 1, now: t0)[0]
        #expect(second.allowed && second.remaining == 0 && second.reset == 12)
        let third = limit.apply(to: &entry, cost: 1, now: t0)[0]
        #expect(!third.allowed && third.retryAfter == 6 && third.remaining == 0)
    }

    @Test("weights: a request may cost more than one, and one too big is refused without charging")
    func weights() {
        let limit = limit("10/s", burst: 10)
        var entry = CompiledLimit.Entry()
        let t0: Int64 = 77 * Self.second
        #expect(admitted(limit, &entry, count: 3, now: t0, cost: 3) == 3)  // 9 of 10
        #expect(admitted(limit, &entry, count: 1, now: t0, cost: 2) == 0)  // refused, nothing charged
        #expect(admitted(limit, &entry, count: 1, now: t0, cost: 1) == 1)  // the last one
        #expect(admitted(limit, &entry, count: 1, now: t0, cost: 11) == 0)
    }

    @Test("sliding window: the previous window counts by its overlap; boundaries are exact")
    func slidingWindow() {
        let limit = limit("10/m", algorithm: .slidingWindow)
        var entry = CompiledLimit.Entry()
        let minute: Int64 = 60 * Self.second
        let t0: Int64 = 1_000 * minute  // a window start
        #expect(admitted(limit, &entry, count: 12, now: t0 + 30 * Self.second) == 10)
        // A quarter into the next window, the previous one still weighs 3/4: 7.5 used, 2 fit.
        #expect(admitted(limit, &entry, count: 5, now: t0 + minute + 15 * Self.second) == 2)
        // Halfway: 10 × 1/2 + 2 = 7 used, 3 fit.
        #expect(admitted(limit, &entry, count: 5, now: t0 + minute + 30 * Self.second) == 3)
        // Two windows on, nothing of the past is left.
        #expect(admitted(limit, &entry, count: 12, now: t0 + 3 * minute) == 10)
        // Full: in the next window these ten still weigh 10 × (1 − e/60), so one more fits after 6 s of it.
        let refused = limit.apply(to: &entry, cost: 1, now: t0 + 3 * minute)[0]
        #expect(!refused.allowed && refused.retryAfter == 66)
        #expect(admitted(limit, &entry, count: 1, now: t0 + 4 * minute + 6 * Self.second - 1) == 0)
        #expect(admitted(limit, &entry, count: 2, now: t0 + 4 * minute + 6 * Self.second) == 1)
    }

    @Test("a monthly quota rolls over at the month's start in the configured time zone")
    func monthlyQuota() {
        let limit = limit("1000/s", quota: "3/month", zone: "America/New_York")
        var entry = CompiledLimit.Entry()
        // 2026-01-31 23:59:59 in New York is 2026-02-01 04:59:59 UTC.
        let endOfJanuary: Int64 = 1_769_921_999 * Self.second
        #expect(admitted(limit, &entry, count: 5, now: endOfJanuary) == 3)
        let refused = limit.apply(to: &entry, cost: 1, now: endOfJanuary)
        #expect(refused[1].policy == "test-quota" && refused[1].retryAfter == 1 && refused[1].window == 31 * 86_400)
        // One second later it is February there: a new quota.
        #expect(admitted(limit, &entry, count: 5, now: endOfJanuary + Self.second) == 3)
        // UTC had already turned at 00:00 UTC, which was still January in New York: no reset then.
        var utcEntry = CompiledLimit.Entry()
        let utcMidnight: Int64 = 1_769_904_000 * Self.second  // 2026-02-01 00:00 UTC = 2026-01-31 19:00 New York
        #expect(admitted(limit, &utcEntry, count: 2, now: utcMidnight - Self.second) == 2)
        #expect(admitted(limit, &utcEntry, count: 2, now: utcMidnight + Self.second) == 1)
    }

    @Test("a refused quota does not consume the rate, and a refused rate does not consume the quota")
    func rateAndQuotaTogether() {
        let limit = limit("2/s", burst: 2, quota: "3/day")
        var entry = CompiledLimit.Entry()
        let t0: Int64 = 1_800_000_000 * Self.second
        #expect(admitted(limit, &entry, count: 3, now: t0) == 2)  // rate stops the third
        #expect(entry.quotaUsed == 2)
        #expect(admitted(limit, &entry, count: 3, now: t0 + 5 * Self.second) == 1)  // quota stops at 3
        #expect(entry.quotaUsed == 3)
    }

    @Test("the in-memory store sweeps idle keys and stays within max-keys")
    func storeBounded() {
        let store = InMemoryLimiterStore(maxKeys: 12_800, shards: 64)
        let limit = limit("1/s", burst: 1)
        let t0: Int64 = 10 * Self.second
        for index in 0..<50_000 { _ = store.decide("k\(index)", limit: limit, cost: 1, now: t0) }
        #expect(store.count <= 12_800)
        // Idle keys (their second has passed) are swept as new ones arrive, so live ones stay.
        for index in 0..<5_000 { _ = store.decide("n\(index)", limit: limit, cost: 1, now: t0 + 2 * Self.second) }
        #expect(store.count <= 12_800)
        // A key that was just charged is still limited.
        #expect(store.decide("n4999", limit: limit, cost: 1, now: t0 + 2 * Self.second)[0].allowed == false)
    }

    @Test("client addresses: X-Forwarded-For counts only behind trusted proxies")
    func clientAddress() {
        var headers = HTTPFields()
        headers.append(HTTPField(name: ClientAddress.forwardedFor, value: "203.0.113.9, 198.51.100.7"))
        headers.append(HTTPField(name: ClientAddress.forwardedFor, value: "10.0.0.5"))
        #expect(ClientAddress(trustedProxies: []).resolve(peer: "10.0.0.1", headers: headers) == "10.0.0.1")
        let trusted = ClientAddress(trustedProxies: ["10.0.0.0/8"])
        #expect(trusted.resolve(peer: "10.0.0.1", headers: headers) == "198.51.100.7")
        #expect(trusted.resolve(peer: "192.0.2.1", headers: headers) == "192.0.2.1")
        let both = ClientAddress(trustedProxies: ["10.0.0.0/8", "198.51.100.0/24"])
        #expect(both.resolve(peer: "10.0.0.1", headers: headers) == "203.0.113.9")
        #expect(
            CIDRBlock(parsing: "fd00::/8")!.contains("fd12::1") && !CIDRBlock(parsing: "fd00::/8")!.contains("fe80::1"))
        #expect(CIDRBlock(parsing: "127.0.0.0/8")!.contains("::ffff:127.0.0.1"))
    }
}
