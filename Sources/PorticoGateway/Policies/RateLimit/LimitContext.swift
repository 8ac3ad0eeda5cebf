import Foundation
import HTTPTypes
import PorticoConfig

/// What every snapshot's rate-limit policies share: the store (so counters outlive a reload),
/// the clock, and how headers and client addresses are made.
package final class LimitContext: Sendable {
    package let store: any LimiterStore
    /// Nanoseconds since 1970; tests inject their own.
    package let clock: @Sendable () -> Int64
    let clientAddress: ClientAddress
    let legacyHeaders: Bool

    package init(
        store: any LimiterStore, settings: LimitsSettings = .init(),
        clock: @escaping @Sendable () -> Int64 = { LimitContext.wallClockNanoseconds() }
    ) {
        self.store = store
        self.clock = clock
        self.clientAddress = ClientAddress(trustedProxies: settings.trustedProxies)
        self.legacyHeaders = settings.legacyHeaders
    }

    /// The same store with a reloaded config's settings.
    func with(settings: LimitsSettings) -> LimitContext {
        LimitContext(store: store, settings: settings, clock: clock)
    }

    package static func wallClockNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// The decision with the least left relative to its quota; `decisions` must not be empty.
    static func tightest(_ decisions: [LimitDecision]) -> LimitDecision {
        decisions.min { lhs, rhs in
            Double(lhs.remaining) / Double(max(1, lhs.quota)) < Double(rhs.remaining) / Double(max(1, rhs.quota))
        }!
    }

    static let policyHeader = HTTPField.Name("RateLimit-Policy")!
    static let stateHeader = HTTPField.Name("RateLimit")!
    static let legacyLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let legacyRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let legacyReset = HTTPField.Name("X-RateLimit-Reset")!

    /// `RateLimit-Policy` listing every policy, `RateLimit` for the tightest (the refusing one,
    /// else the one with the least left relative to its quota), as structured-field lists.
    func headers(_ decisions: [LimitDecision], tightest: LimitDecision?) -> [HTTPField] {
        guard !decisions.isEmpty else { return [] }
        let tight = tightest ?? Self.tightest(decisions)
        var policies = ""
        for (index, decision) in decisions.enumerated()
        where !decisions[..<index].contains(where: { $0.policy == decision.policy }) {
            if !policies.isEmpty { policies += ", " }
            let item: String = decision.quotedPolicy + ";q=" + String(decision.quota)
            policies += item + ";w=" + String(decision.window)
        }
        let state: String = tight.quotedPolicy + ";r=" + String(tight.remaining)
        var fields = [
            HTTPField(name: Self.policyHeader, value: policies),
            HTTPField(name: Self.stateHeader, value: state + ";t=" + String(tight.reset)),
        ]
        if legacyHeaders {
            fields.append(HTTPField(name: Self.legacyLimit, value: String(tight.quota)))
            fields.append(HTTPField(name: Self.legacyRemaining, value: String(tight.remaining)))
            fields.append(HTTPField(name: Self.legacyReset, value: String(tight.reset)))
        }
        return fields
    }
}
