import Foundation
import PorticoConfig
import Synchronization

/// One limit, ready to decide: its algorithms, its key parts and its policy names.
///
/// `id` is derived from the scope and the settings, so a reload that keeps a limit unchanged
/// keeps its id, and with it every key's counters in the store.
package final class CompiledLimit: Sendable {
    package let id: Int
    /// The name in `RateLimit-Policy` of the rate part, and of the quota part.
    package let name: String
    package let quotaName: String
    /// Both names as structured-field strings, for the headers.
    let quotedName: String
    let quotedQuotaName: String
    package let by: [LimitKeyPart]
    let gcra: GCRA?
    let sliding: SlidingWindow?
    let quota: CalendarQuota?
    /// What this limit does when a shared store cannot answer.
    package let onStoreFailure: StoreFailureMode
    /// The quota window holding the last request, so the calendar is consulted once per window.
    private let quotaWindow = Mutex<(start: Int64, end: Int64)?>(nil)

    package init(
        config: LimitConfig, name: String, scope: String, timeZone: TimeZone, onStoreFailure: StoreFailureMode = .local
    ) {
        var hasher = ContentHash()
        hasher.combine(
            "\(scope)|\(config.rate?.description ?? "")|\(config.burst ?? 0)|\(config.quota?.description ?? "")".utf8)
        hasher.combine(
            "|\(config.algorithm.rawValue)|\(config.by.map(\.description).joined(separator: ","))|\(timeZone.identifier)"
                .utf8)
        self.id = Int(truncatingIfNeeded: hasher.value)
        self.name = name
        self.quotaName = config.rate == nil ? name : name + "-quota"
        self.quotedName = Self.structuredString(name)
        self.quotedQuotaName = Self.structuredString(quotaName)
        self.by = config.by
        self.onStoreFailure = config.onStoreFailure ?? onStoreFailure
        if let rate = config.rate {
            switch config.algorithm {
            case .gcra:
                gcra = GCRA(count: rate.count, period: rate.period, burst: config.burst ?? rate.count)
                sliding = nil
            case .slidingWindow:
                gcra = nil
                sliding = SlidingWindow(limit: config.burst ?? rate.count, window: Int64(rate.period) * 1000)
            }
        } else {
            gcra = nil
            sliding = nil
        }
        quota = config.quota.map { quota in
            let kind: CalendarQuota.QuotaWindowKind =
                quota.window == .hour ? .hour : quota.window == .day ? .day : .month
            return CalendarQuota(limit: quota.count, window: kind, timeZone: timeZone)
        }
    }

    /// The state one key keeps under one limit.
    package struct Entry: Sendable, Hashable {
        /// The GCRA's theoretical arrival time (µs since 1970).
        var tat: Int64 = 0
        var sliding = SlidingWindow.State()
        /// The start (ns since 1970) of the quota window `quotaUsed` counts in.
        var quotaStart: Int64 = 0
        var quotaUsed = 0
        /// When the entry holds nothing a fresh one would not (ns since 1970).
        var idleAt: Int64 = 0

        /// An entry that has counted nothing.
        package init() {}
    }

    /// Decides for `cost` units at `now` (ns since 1970). The rate and the quota are both
    /// checked before either is charged, so a refused request costs nothing.
    package func apply(to entry: inout Entry, cost: Int, now: Int64) -> [LimitDecision] {
        var decisions: [LimitDecision] = []
        decisions.reserveCapacity(2)
        var next = entry
        var allowed = true
        if let gcra {
            let result = gcra.decide(tat: &next.tat, now: now / 1000, cost: cost)
            allowed = allowed && result.allowed
            decisions.append(
                LimitDecision(
                    allowed: result.allowed, policy: name, quotedPolicy: quotedName, quota: gcra.burst,
                    window: gcra.windowSeconds,
                    remaining: result.remaining, reset: Self.seconds(result.reset * 1000),
                    retryAfter: result.retryAfter.map { Self.seconds($0 * 1000) }))
            next.idleAt = max(next.idleAt, next.tat.saturatingMultiply(1000))
        } else if let sliding {
            let result = sliding.decide(&next.sliding, now: now / 1_000_000, cost: cost)
            allowed = allowed && result.allowed
            decisions.append(
                LimitDecision(
                    allowed: result.allowed, policy: name, quotedPolicy: quotedName, quota: sliding.limit,
                    window: Int(sliding.window / 1000),
                    remaining: result.remaining, reset: Self.seconds(result.reset * 1_000_000),
                    retryAfter: result.retryAfter.map { Self.seconds($0 * 1_000_000) }))
            next.idleAt = max(next.idleAt, (next.sliding.start + 2 * sliding.window) * 1_000_000)
        }
        if let quota {
            let window = quotaBounds(now: now, quota: quota)
            if next.quotaStart != window.start {
                next.quotaStart = window.start
                next.quotaUsed = 0
            }
            let fits = next.quotaUsed + cost <= quota.limit
            if fits { next.quotaUsed += cost }
            allowed = allowed && fits
            decisions.append(
                LimitDecision(
                    allowed: fits, policy: quotaName, quotedPolicy: quotedQuotaName, quota: quota.limit,
                    window: Self.seconds(window.end - window.start),
                    remaining: max(0, quota.limit - next.quotaUsed), reset: Self.seconds(window.end - now),
                    retryAfter: fits ? nil : Self.seconds(window.end - now)))
            next.idleAt = max(next.idleAt, window.end)
        }
        if allowed { entry = next }
        return decisions
    }

    func quotaBounds(now: Int64, quota: CalendarQuota) -> (start: Int64, end: Int64) {
        if let cached = quotaWindow.withLock({ $0 }), cached.start <= now, now < cached.end { return cached }
        let bounds = quota.bounds(of: Date(timeIntervalSince1970: Double(now) / 1e9))
        let window = (Int64(bounds.start.timeIntervalSince1970 * 1e9), Int64(bounds.end.timeIntervalSince1970 * 1e9))
        quotaWindow.withLock { $0 = window }
        return window
    }

    /// A structured-field string (RFC 8941 §3.3.3): quoted, with `\` and `"` escaped.
    static func structuredString(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// Whole seconds, rounded up: a client that waits that long is never early.
    static func seconds(_ nanoseconds: Int64) -> Int {
        nanoseconds <= 0 ? 0 : Int((nanoseconds + 999_999_999) / 1_000_000_000)
    }
}
