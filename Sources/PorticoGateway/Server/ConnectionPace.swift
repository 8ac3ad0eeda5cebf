import NIOCore

/// How far a client connection is through its current request, and whether it is too slow.
///
/// A state machine in the house style: the handlers tell it what arrived and when, and
/// `check(now:)` says whether to close. A request head must be complete within
/// `headerTimeout` of its first byte (slowloris); a body, after `bodyGrace`, must have come at
/// `minimumBodyRate` bytes per second on average. Idle keep-alive connections are the idle
/// timeout's business, not this one's.
struct ConnectionPace {
    let headerTimeout: TimeAmount
    let minimumBodyRate: Int
    let bodyGrace: TimeAmount

    enum State: Equatable {
        /// Between requests: nothing of the next one has arrived.
        case idle
        /// Bytes of a head have arrived since `since`, the head is not complete.
        case head(since: NIODeadline)
        /// The head is in; `bytes` of its body have arrived since `since`.
        case body(since: NIODeadline, bytes: Int)
        /// The request is in; the response is being written.
        case responding(bytesWaiting: Bool)
        /// An HTTP/2 connection (its streams are NIOHTTP2's to pace: flow control, its limits on
        /// streams, resets and control frames) or an upgraded one (its tunnel's idle timeout's):
        /// bytes alone say nothing.
        case unpaced
    }

    enum Action: Equatable {
        case none
        case close(reason: String)
    }

    private(set) var state = State.idle

    init(headerTimeout: TimeAmount, minimumBodyRate: Int, bodyGrace: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.minimumBodyRate = minimumBodyRate
        self.bodyGrace = bodyGrace
    }

    /// Raw bytes came from the client.
    mutating func bytesArrived(now: NIODeadline) {
        switch state {
        case .idle: state = .head(since: now)
        case .responding: state = .responding(bytesWaiting: true)
        case .head, .body, .unpaced: break
        }
    }

    /// A whole request head was decoded.
    mutating func headReceived(now: NIODeadline, hasBody: Bool) {
        state = hasBody ? .body(since: now, bytes: 0) : .responding(bytesWaiting: false)
    }

    /// The connection speaks HTTP/2, or is a tunnel, from now on.
    mutating func stopPacing() { state = .unpaced }

    mutating func bodyArrived(_ count: Int) {
        if case .body(let since, let bytes) = state { state = .body(since: since, bytes: bytes &+ count) }
    }

    mutating func requestEnded() {
        if case .responding = state { return }
        state = .responding(bytesWaiting: false)
    }

    /// The response's last part was written: wait for the next request. Bytes that came while
    /// responding belong to it, so its head's clock starts now.
    mutating func responseEnded(now: NIODeadline) {
        if case .responding(let waiting) = state { state = waiting ? .head(since: now) : .idle }
    }

    func check(now: NIODeadline) -> Action {
        switch state {
        case .head(let since) where now - since > headerTimeout:
            return .close(reason: "request head not complete within the header timeout")
        case .body(let since, let bytes):
            let elapsed = now - since
            guard elapsed > bodyGrace else { return .none }
            // bytes / seconds < rate, in integers: bytes × 1e9 < rate × nanoseconds.
            let (expected, overflow) = Int64(minimumBodyRate).multipliedReportingOverflow(by: elapsed.nanoseconds)
            let (received, overflowReceived) = Int64(bytes).multipliedReportingOverflow(by: 1_000_000_000)
            if !overflow, !overflowReceived, received < expected {
                return .close(reason: "request body slower than the minimum rate")
            }
            return .none
        default:
            return .none
        }
    }
}
