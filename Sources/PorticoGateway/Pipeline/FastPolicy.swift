import HTTPTypes

/// A policy whose common case decides on the event loop, without suspending.
///
/// A route whose policies are all fast, and whose terminal stage proxies to plain-HTTP targets,
/// is served by `EventLoopExchange` on the client connection's event loop; other routes, and
/// requests a fast policy cannot decide at once, take the streaming path (`Policy.handle`).
package protocol FastPolicy: Policy {
    /// The request phase. `.slow` must come before the policy changes anything (a charge, a
    /// count), since the streaming path then starts the chain over.
    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission
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
    /// This request needs work that waits (a key fetch, a password hash): take the streaming path.
    case slow
}

/// A route's chain as the event-loop path runs it: fast policies, then the proxy.
package struct FastChain: Sendable {
    package let policies: [any FastPolicy]
    let proxy: ProxyStage
    /// The route's cache, and how many of `policies` run before it: a fresh hit is answered
    /// after those (auth, limits) and with their response phases only, as on the streaming path.
    var cache: (policy: CachePolicy, before: Int)? = nil
}
