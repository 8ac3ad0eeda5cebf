import HTTPTypes
import NIOCore
import PorticoConfig

/// The event-loop path's first step for a request, before any byte of its body: the guard, the
/// portal's share, the route, the `Exchange`, and the route's fast policies in order.
///
/// `EventLoopPath` and `PolicyHarness` (tests) both start requests here, so the decision that
/// tests see is the one the gateway makes.
package struct FastStart {
    package let route: CompiledRoute
    let chain: FastChain
    package let exchange: Exchange
    /// The head as the policies left it (the guard's and the policies' changes made).
    package var head: HTTPRequest
    /// The path without its query, for the call record and problem instances.
    package let path: String
    /// A policy's refusal instead of the upstream's answer; the request body is still read first.
    package var refusal: GatewayError?
    /// A policy's own answer (a bodiless head) instead of the upstream's.
    package var answer: HTTPResponse?
    /// The cache's answer, response phases applied, instead of the upstream's.
    package var cached: (head: HTTPResponse, body: ByteBuffer)?
    /// The policy whose work waits (`.wait`): the call runs its `admitWaiting`, then `resume`.
    package private(set) var waiting: Int?
    /// The fresh cache entry found before any policy ran, answered once they all passed.
    private let hit: CachedResponse?

    /// Starts `sent` on the event loop, or nil when the streaming path must serve it: the
    /// guard refuses it (that path answers), a mount claims it, it matches no route with a
    /// fast chain that `accepts` (checked before any policy runs), or a policy must wait.
    package static func start(
        _ sent: HTTPRequest, snapshot: RuntimeSnapshot, peer: String?, at start: ContinuousClock.Instant,
        requestID: (HTTPRequest) -> String, accepts: (FastChain) -> Bool = { _ in true }
    ) -> FastStart? {
        guard case .success(let admitted) = snapshot.requestGuard.admit(sent, peer: peer) else { return nil }
        let head = admitted ?? sent
        let path = head.pathWithoutQuery
        // What a mount (the portal) serves or refuses is the streaming path's.
        if let mount = snapshot.mount, mount.claim(host: head.authority, path: path) != .pass { return nil }
        guard case .route(let route) = snapshot.routes.match(head, path: path), let chain = route.chain.fast,
            accepts(chain)
        else { return nil }
        // A cached route is served here only for a fresh hit, found before any policy runs.
        var hit: CachedResponse? = nil
        if let cache = chain.cache {
            guard let found = cache.policy.freshHit(head) else { return nil }
            hit = found
        }
        let exchange = Exchange(
            requestID: requestID(head), trace: TraceContext(headers: head.headerFields), clientAddress: peer,
            host: head.authority,
            start: start, route: route, request: head)
        var started = FastStart(route: route, chain: chain, exchange: exchange, head: head, path: path, hit: hit)
        guard started.admit(from: 0) else { return nil }
        return started
    }

    /// Runs the policies before the cache from `index` on, then answers a cache hit; false when
    /// one must take the streaming path (only before any waited: see `mayPassOn`).
    private mutating func admit(from index: Int) -> Bool {
        let before = chain.cache?.before ?? chain.policies.count
        var index = index
        while index < before {
            let policy = chain.policies[index]
            switch policy.admit(&head, exchange: exchange) {
            case .proceed:
                index += 1
                continue
            case .refuse(let error): refusal = error
            case .answer(let answer): self.answer = answer
            case .wait:
                // Once a request waited it cannot take the streaming path: a later policy that
                // may send it there sends it now, before anything waited.
                if chain.policies[(index + 1)...].contains(where: { $0.mayPassOn }) { return false }
                waiting = index
            case .slow:
                return false
            }
            return true
        }
        if let hit, let cache = chain.cache {
            var (answer, body) = cache.policy.answer(hit, requestFields: head.headerFields, exchange: exchange)
            for policy in chain.policies[..<before].reversed() { policy.respond(&answer, exchange: exchange) }
            cached = (answer, body)
        }
        return true
    }

    /// The policy at `waiting` decided, its work done: its decision, then the policies after it
    /// (one of which may wait in turn).
    mutating func resume(_ admission: FastAdmission, head: HTTPRequest) {
        guard let index = waiting else { return }
        waiting = nil
        self.head = head
        switch admission {
        case .proceed:
            if !admit(from: index + 1) {
                refusal = .internalError("A policy sent a request that had waited to the streaming path.")
            }
        case .refuse(let error): refusal = error
        case .answer(let answer): self.answer = answer
        case .wait, .slow:
            refusal = .internalError("A policy could not decide after it waited.")
        }
    }

    /// The head the proxy sends to `target`: the policies' head with the proxy's changes.
    package func upstreamHead(for target: TargetConfig) -> HTTPRequest {
        chain.proxy.upstreamHead(head, exchange: exchange, target: target)
    }

    /// The response phase on the head of an upstream's answer: the proxy's changes, then each
    /// policy's in reverse order.
    package func respond(to upstream: HTTPResponse) -> HTTPResponse {
        var head = chain.proxy.clientHead(upstream, exchange: exchange)
        for policy in chain.policies.reversed() { policy.respond(&head, exchange: exchange) }
        return head
    }
}
