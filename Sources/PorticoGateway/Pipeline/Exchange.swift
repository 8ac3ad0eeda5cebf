import HTTPTypes
import Hummingbird
import PorticoConfig
import PorticoStore
import Synchronization

/// The per-request state that policies share and the log phase reads.
///
/// One exchange belongs to one request and is touched by that request's task only, except the
/// byte counters, which the body streams update and are therefore atomic.
package final class Exchange: Sendable {
    /// The request id: the client's valid `X-Request-Id`, or a new one.
    package let requestID: String
    /// The W3C trace this request belongs to, and the gateway's span in it.
    package let trace: TraceContext
    /// The client's IP address as seen on the socket.
    package let clientAddress: String?
    /// The `Host` the client asked for.
    package let host: String?
    /// When the gateway received the request head.
    package let start: ContinuousClock.Instant
    /// The matched route.
    package let route: CompiledRoute
    /// The request head as it reached the chain (after the guard, before any policy), for
    /// response phases and templates that read the request.
    package let request: HTTPRequest
    /// Request body bytes read from the client.
    package let bytesIn = Atomic<Int>(0)
    /// Response body bytes written to the client.
    package let bytesOut = Atomic<Int>(0)
    /// Tries beyond the first that the upstream stage made.
    package let retries = Atomic<Int>(0)
    private let finishers = Mutex<[@Sendable () -> Void]>([])
    private let caller = Mutex<Identity?>(nil)
    private let limitDecision = Mutex<LimitDecision?>(nil)
    private let cacheOutcome = Mutex<CacheStatus?>(nil)
    private let authRefusal = Mutex<String?>(nil)
    private let upstreamState = Mutex<UpstreamTiming>(.init())
    private let bodyFailure = Mutex<(any Error)?>(nil)
    private let pendingFields = Mutex<[HTTPField]>([])
    private let everyAnswerFields = Mutex<[HTTPField]>([])
    private let mirrored = Mutex<MirrorOutcome?>(nil)
    private let backendRecords = Mutex<[BackendCallRecord]>([])
    private let contractIssues = Mutex<[String]>([])

    struct UpstreamTiming {
        var target: String?
        var elapsed: Duration?
    }

    init(
        requestID: String, trace: TraceContext, clientAddress: String?, host: String?, start: ContinuousClock.Instant,
        route: CompiledRoute,
        request: HTTPRequest
    ) {
        self.request = request
        self.requestID = requestID
        self.trace = trace
        self.clientAddress = clientAddress
        self.host = host
        self.start = start
        self.route = route
    }

    /// Records which target served the request and how long it took to answer with a head.
    package func recordUpstream(target: String, elapsed: Duration?) {
        upstreamState.withLock {
            $0.target = target
            $0.elapsed = elapsed
        }
    }

    /// Runs `action` once the response has been written (or the write failed), whatever happened.
    package func onFinish(_ action: @escaping @Sendable () -> Void) {
        finishers.withLock { $0.append(action) }
    }

    /// Called by the gateway after the response is written.
    package func finish() {
        for action in finishers.withLock({ $0 }) { action() }
    }

    /// Who is calling, once the auth policy has decided; nil on routes without auth.
    package internal(set) var identity: Identity? {
        get { caller.withLock { $0 } }
        set { caller.withLock { $0 = newValue } }
    }

    /// The rate-limit decision for the call log: the refusing policy's, else the tightest's.
    package internal(set) var rateLimit: LimitDecision? {
        get { limitDecision.withLock { $0 } }
        set { limitDecision.withLock { $0 = newValue } }
    }

    /// What the route's cache did; nil on routes without a cache.
    package internal(set) var cacheStatus: CacheStatus? {
        get { cacheOutcome.withLock { $0 } }
        set { cacheOutcome.withLock { $0 = newValue } }
    }

    /// Why auth refused the request (`missing`, `invalid`, `forbidden`, `scope`, `unavailable`), for metrics.
    package internal(set) var authFailure: String? {
        get { authRefusal.withLock { $0 } }
        set { authRefusal.withLock { $0 = newValue } }
    }

    /// The first error that ended the client's request body, if one did: the client's fault.
    package internal(set) var clientBodyError: (any Error)? {
        get { bodyFailure.withLock { $0 } }
        set { bodyFailure.withLock { if $0 == nil { $0 = newValue } } }
    }

    /// Fields a fast policy decided in its request phase and adds in its response phase
    /// (`RateLimit`), kept here because a fast policy has no frame that spans both.
    var responseFields: [HTTPField] {
        get { pendingFields.withLock { $0 } }
        set { pendingFields.withLock { $0 = newValue } }
    }

    /// Fields a policy puts on the gateway's own error answers too (`CORSPolicy`: a browser
    /// script may read a 401 or a 429 only when it carries `Access-Control-Allow-Origin`).
    package var errorFields: [HTTPField] {
        get { everyAnswerFields.withLock { $0 } }
        set { everyAnswerFields.withLock { $0 = newValue } }
    }

    /// The mirrored copy of this request, when one was made or skipped.
    package var mirror: MirrorOutcome? {
        get { mirrored.withLock { $0 } }
        set { mirrored.withLock { $0 = newValue } }
    }

    /// A composite endpoint's backend calls, for the call record's child rows.
    package var backendCalls: [BackendCallRecord] { backendRecords.withLock { $0 } }

    /// Adds one backend call of a composite endpoint; at most `BackendCallRecord.maximumPerCall` are kept.
    package func recordBackendCall(_ record: BackendCallRecord) {
        backendRecords.withLock { if $0.count < BackendCallRecord.maximumPerCall { $0.append(record) } }
    }

    /// Where the request or its response broke the OpenAPI contract, for the call record:
    /// `request /query/limit: expected at most 100, found 500`, at most `maximumContractIssues`.
    package var validationIssues: [String] { contractIssues.withLock { $0 } }

    static let maximumContractIssues = 10

    package func recordValidation(_ side: String, _ issues: [ValidationIssue]) {
        contractIssues.withLock { kept in
            for issue in issues where kept.count < Self.maximumContractIssues { kept.append("\(side) \(issue)") }
        }
    }

    package var upstreamTarget: String? { upstreamState.withLock { $0.target } }
    package var upstreamElapsed: Duration? { upstreamState.withLock { $0.elapsed } }
}
