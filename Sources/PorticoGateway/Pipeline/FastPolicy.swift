import HTTPTypes
import NIOCore

/// A policy whose common case decides on the event loop, without suspending.
///
/// A route whose policies are all fast, and whose terminal stage proxies to targets the
/// event-loop path's clients reach, is served by `LoopCall` on the client connection's event
/// loop. A request a fast policy cannot decide at once either waits there (`.wait`: the work that
/// waits runs in a task, or as a future of a NIO client, and the call resumes on its loop) or takes the streaming path (`.slow`,
/// `Policy.handle`), which is also where other routes go.
package protocol FastPolicy: Policy {
    /// The request phase. `.wait` and `.slow` must come before the policy changes anything (a
    /// charge, a count): `admitWaiting` decides again from the start, and the streaming path
    /// starts the chain over.
    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission
    /// The request phase after `admit` said `.wait`: the work that waits (a key fetch, a
    /// password hash, a remote limiter), then the whole decision, with the head to send on.
    /// Runs off the event loop; the call resumes on its loop with the result.
    func admitWaiting(_ head: HTTPRequest, exchange: Exchange) async -> (FastAdmission, HTTPRequest)
    /// `admitWaiting` as a future completed on `loop`, for work that a NIO client does (a remote
    /// limiter): the call then waits without a task. Nil (the default) runs `admitWaiting` in a task.
    func admitWaiting(
        _ head: HTTPRequest, exchange: Exchange, on loop: any EventLoop
    ) -> EventLoopFuture<(FastAdmission, HTTPRequest)>?
    /// Whether `admit` may say `.slow`: a request that waited can no longer take the streaming
    /// path, so a route with such a policy sends a request that must wait there whole.
    var mayPassOn: Bool { get }
    /// The response phase, on the head of the answer; runs in reverse order, not for errors.
    func respond(_ head: inout HTTPResponse, exchange: Exchange)
}

/// What a fast policy decided about a request.
package enum FastAdmission {
    /// Go on with the next policy.
    case proceed
    /// Answer with this error.
    case refuse(GatewayError)
    /// Answer with this head and no body, as the gateway's own (a CORS preflight).
    case answer(HTTPResponse)
    /// This request needs work that waits (a key fetch, a password hash): `admitWaiting` does
    /// it, and the call resumes on its event loop after it.
    case wait
    /// This request needs what the event-loop path does not give a policy (the request body,
    /// to validate it): take the streaming path.
    case slow
}

extension FastPolicy {
    /// A policy that never says `.wait` decides as at once.
    package func admitWaiting(_ head: HTTPRequest, exchange: Exchange) async -> (FastAdmission, HTTPRequest) {
        var head = head
        let admission = admit(&head, exchange: exchange)
        return (admission, head)
    }

    package func admitWaiting(
        _ head: HTTPRequest, exchange: Exchange, on loop: any EventLoop
    ) -> EventLoopFuture<(FastAdmission, HTTPRequest)>? { nil }

    package var mayPassOn: Bool { false }
}

/// A route's chain as the event-loop path runs it: fast policies, then the proxy.
package struct FastChain: Sendable {
    package let policies: [any FastPolicy]
    let proxy: ProxyStage
    /// The route's cache, and how many of `policies` run before it: a fresh hit is answered
    /// after those (auth, limits) and with their response phases only, as on the streaming path.
    var cache: (policy: CachePolicy, before: Int)? = nil
}
