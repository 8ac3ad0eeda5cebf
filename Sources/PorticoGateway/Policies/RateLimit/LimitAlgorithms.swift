import Foundation
import PorticoConfig

/// What one limit decided for one request.
package struct LimitDecision: Sendable, Hashable {
    package var allowed: Bool
    /// The policy's name, as `RateLimit-Policy` names it.
    package var policy: String
    /// The name as a structured-field string, quoted once when the limit is compiled.
    var quotedPolicy: String
    /// The requests the policy allows per window (`q`) and the window in seconds (`w`).
    package var quota: Int
    package var window: Int
    /// Requests left now (`r`).
    package var remaining: Int
    /// Seconds until the policy is back to full, or its window resets (`t`).
    package var reset: Int
    /// For a refused request: seconds until it would be allowed.
    package var retryAfter: Int?
}

/// GCRA (the generic cell rate algorithm): a request is allowed if the "theoretical arrival
/// time" it would push forward stays within the burst tolerance. One number of state per key,
/// exact, and smooth: `rate 10/s, burst 20` allows 20 at once and then one every 100 ms.
///
/// Times are integer microseconds, so admission at the boundaries is exact, and every time and
/// sum stays below 2^53: the Redis store's Lua script, whose numbers are doubles, decides the
/// same way to the microsecond.
struct GCRA: Sendable, Hashable {
    /// The emission interval: the time one request "costs".
    let interval: Int64
    /// How far ahead of now the arrival time may run: (burst - 1) intervals.
    let tolerance: Int64
    let burst: Int

    init(count: Int, period: Int, burst: Int) {
        // The config bounds count, period and burst; the products are still checked, and a burst
        // whose refill would outlast a century is held to one.
        self.interval = max(1, Int64(period) * 1_000_000 / Int64(max(1, count)))
        self.burst = burst
        let (tolerance, overflow) = Int64(max(0, burst - 1)).multipliedReportingOverflow(by: interval)
        self.tolerance = overflow ? Self.maximumTolerance : min(tolerance, Self.maximumTolerance)
    }

    /// Ten years in microseconds: the most a burst may run ahead of now.
    static let maximumTolerance: Int64 = 10 * 365 * 86_400 * 1_000_000

    /// Decides for `cost` units at `now` (µs); updates `tat` only when allowed.
    func decide(
        tat: inout Int64, now: Int64, cost: Int
    ) -> (allowed: Bool, remaining: Int, reset: Int64, retryAfter: Int64?) {
        let base = max(tat, now)
        let next = base.saturatingAdd(Int64(cost).saturatingMultiply(interval))
        let allowAt = next - tolerance - interval
        if now < allowAt {
            return (false, remaining(tat: base, now: now), base - now, allowAt - now)
        }
        tat = next
        return (true, remaining(tat: next, now: now), next - now, nil)
    }

    /// Units that could be spent right now.
    func remaining(tat: Int64, now: Int64) -> Int {
        let room = now + tolerance + interval - max(tat, now)
        return max(0, Int(room / interval))
    }

    /// The window `RateLimit-Policy` reports: the time a full burst takes to refill.
    var windowSeconds: Int { max(1, Int(Int64(burst).saturatingMultiply(interval).saturatingAdd(999_999) / 1_000_000)) }
}

/// A sliding window counter: the previous window's count, weighted by how much of it still
/// overlaps the sliding window, plus the current window's count. Two counters per key.
///
/// Times are integer milliseconds and the weighting is done in integers, so it is exact.
struct SlidingWindow: Sendable, Hashable {
    let limit: Int
    /// The window in milliseconds.
    let window: Int64

    struct State: Sendable, Hashable {
        var start: Int64 = 0
        var current = 0
        var previous = 0
    }

    func decide(
        _ state: inout State, now: Int64, cost: Int
    ) -> (allowed: Bool, remaining: Int, reset: Int64, retryAfter: Int64?) {
        roll(&state, now: now)
        let elapsed = now - state.start
        // used × window, to stay in integers: previous × (window − elapsed) + current × window.
        let used = Int64(state.previous) * (window - elapsed) + Int64(state.current) * window
        let capacity = Int64(limit) * window
        if used + Int64(cost) * window > capacity {
            return (false, remaining(used: used), state.start + window - now, retryAfter(state, now: now, cost: cost))
        }
        state.current += cost
        return (true, remaining(used: used + Int64(cost) * window), state.start + window - now, nil)
    }

    private func roll(_ state: inout State, now: Int64) {
        let start = now - now % window
        if start == state.start { return }
        state.previous = start - state.start == window ? state.current : 0
        state.current = 0
        state.start = start
    }

    private func remaining(used: Int64) -> Int {
        max(0, Int((Int64(limit) * window - used) / window))
    }

    /// The first time at which `cost` more fits: when the previous window's weight has fallen far
    /// enough, or, if the current window alone is too full, in the next window.
    private func retryAfter(_ state: State, now: Int64, cost: Int) -> Int64 {
        let end = state.start + window
        let free = limit - state.current - cost
        if free >= 0, state.previous > 0 {
            // previous × (window − e) ≤ free × window  ⇒  e ≥ window − free × window / previous
            let elapsedNeeded = window - Int64(free) * window / Int64(state.previous)
            return max(1, state.start + elapsedNeeded - now)
        }
        // Next window: the current count becomes the previous one.
        let nextFree = limit - cost
        guard nextFree >= 0 else { return end - now + window }
        let elapsedNeeded = state.current == 0 ? 0 : max(0, window - Int64(nextFree) * window / Int64(state.current))
        return max(1, end + elapsedNeeded - now)
    }
}

/// A quota per calendar hour, day or month in a time zone: a fixed window counter.
struct CalendarQuota: Sendable {
    let limit: Int
    let window: QuotaWindowKind
    let calendar: Calendar

    enum QuotaWindowKind: Sendable, Hashable {
        case hour, day, month
    }

    init(limit: Int, window: QuotaWindowKind, timeZone: TimeZone) {
        self.limit = limit
        self.window = window
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The window holding `date`: its start and end.
    func bounds(of date: Date) -> (start: Date, end: Date) {
        let component: Calendar.Component = window == .hour ? .hour : window == .day ? .day : .month
        let interval = calendar.dateInterval(of: component, for: date)!
        return (interval.start, interval.end)
    }
}

extension Int64 {
    /// The product, held at the type's bounds instead of trapping.
    func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }

    /// The sum, held at the type's bounds instead of trapping.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }
}
