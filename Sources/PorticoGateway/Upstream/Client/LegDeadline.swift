import NIOCore

/// The timeout of an upstream leg (`UpstreamConnection`, `H2UpstreamStream`) as one pending check
/// that re-arms itself: what is watched (the failure, the allowed silence, the last activity)
/// changes freely, and a check is scheduled only when none is pending early enough. So a
/// kept-alive connection costs no timer per request, and a streaming body none per part.
///
/// A state machine: its owner passes the time in, schedules the check it returns, and calls
/// `fired` when that check runs.
struct LegDeadline {
    private(set) var watch: (failure: UpstreamFailure, limit: TimeAmount, since: NIODeadline)?
    /// When the pending check runs; nil when none is pending.
    private(set) var pending: NIODeadline?

    enum Action: Equatable {
        /// Nothing is watched, or nothing is due yet and a check is pending.
        case none
        /// Schedule the next check then.
        case schedule(NIODeadline)
        /// The silence lasted past the limit.
        case fail(UpstreamFailure)
    }

    /// Watches for `failure` after `limit` of silence from `now`; returns when to schedule a check
    /// if none is pending soon enough (the owner cancels the pending one first), else nil.
    mutating func arm(_ limit: TimeAmount, failing failure: UpstreamFailure, now: NIODeadline) -> NIODeadline? {
        watch = (failure, limit, now)
        if let pending, pending <= now + limit { return nil }
        pending = now + limit
        return now + limit
    }

    /// Activity: the silence starts again.
    mutating func touch(now: NIODeadline) {
        watch?.since = now
    }

    /// Nothing to watch until the next `arm`; a pending check finds nothing to do.
    mutating func clear() {
        watch = nil
    }

    /// The owner cancelled its check for good (the leg closed).
    mutating func stop() {
        watch = nil
        pending = nil
    }

    /// The pending check ran at `now`.
    mutating func fired(now: NIODeadline) -> Action {
        pending = nil
        guard let watch else { return .none }
        let due = watch.since + watch.limit
        if due > now {
            pending = due
            return .schedule(due)
        }
        return .fail(watch.failure)
    }
}
