import HTTPTypes
import Hummingbird
import Logging
import PorticoConfig

/// Decides who is calling and whether they may, before anything else on the route.
///
/// Identity headers a client sent never reach it (`RequestGuard` removes them). On a route with auth, it tries the
/// route's alternatives in order; the first whose methods all accept the request, and whose
/// scopes the credential holds, wins. The upstream then receives `X-Consumer-Name`,
/// `X-Consumer-Groups` and `X-Authenticated-Scopes`, and not the credential unless the route
/// forwards it. A missing or bad credential gets 401 naming the accepted schemes; a valid one
/// that is not allowed gets 403. Neither says what was wrong with the credential.
struct AuthPolicy: FastPolicy {
    let phase = PolicyPhase.request
    /// Before every other request policy: limits and logs need the consumer.
    let priority = 5_000
    /// Each alternative: the authenticators that must all succeed, and the scopes it needs.
    let alternatives: [(steps: [any Authenticator], scopes: Set<String>)]
    /// Every authenticator of the route, once each, in order: for challenges and stripping.
    let methods: [any Authenticator]
    /// A request with no credential at all may pass (OpenAPI's `{}` requirement).
    let optional: Bool
    let anonymous: String?
    let allowGroups: Set<String>?
    let denyGroups: Set<String>
    let forwardCredential: Bool
    let consumers: ConsumerLookup
    let logger: Logger
    /// Failed tries per client address: too many in a minute and the route answers 429 before
    /// any credential is checked.
    let failures: AuthFailures?
    let clientAddress: ClientAddress
    /// Whether a method of the route takes a password, so that failures count per address.
    let countsGuesses: Bool

    init?(
        policies: PolicyConfig, authenticators: [String: any Authenticator], consumers: ConsumerLookup, logger: Logger,
        failures: AuthFailures? = nil, clientAddress: ClientAddress = ClientAddress(trustedProxies: [])
    ) {
        let requirement = policies.access.auth ?? .none
        let extraScopes = Set(policies.access.scopes ?? [])
        self.alternatives = requirement.alternatives.map { steps in
            (steps.compactMap { authenticators[$0.method] }, Set(steps.flatMap(\.scopes)).union(extraScopes))
        }
        self.methods = requirement.methodNames.compactMap { authenticators[$0] }
        self.optional = requirement.optional
        self.anonymous = policies.access.anonymous
        self.allowGroups = policies.access.allowGroups.map(Set.init)
        self.denyGroups = Set(policies.access.denyGroups ?? [])
        self.forwardCredential = policies.access.forwardCredential ?? false
        self.consumers = consumers
        self.logger = logger
        self.failures = failures
        self.clientAddress = clientAddress
        self.countsGuesses = failures != nil && methods.contains { $0.guessable }
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        // `RequestGuard` has removed every identity header the client sent, so a route without
        // auth has nothing to change: pass the request on as it is, without copying its head.
        if alternatives.isEmpty, anonymous == nil { return try await next(request, exchange: exchange) }
        var known: [String: AuthOutcome] = [:]
        while true {
            switch try decide(request.head, exchange: exchange, known: &known) {
            case .pass(let head):
                return try await next(Request(head: head, body: request.body), exchange: exchange)
            case .needs(let method):
                known[method.name] = await method.authenticate(request, consumers: consumers)
            }
        }
    }

    /// What auth decided: pass (with the head to send on), or ask `method` first, which must wait.
    enum Decision {
        case pass(HTTPRequest)
        case needs(any Authenticator)
    }

    /// `decide` with each method asked once: what `known` holds (awaited by the streaming path),
    /// else what the method says at once, remembered.
    func decide(
        _ sent: HTTPRequest, exchange: Exchange, known: inout [String: AuthOutcome]
    ) throws(GatewayError) -> Decision {
        try decide(sent, exchange: exchange) { method in
            if let outcome = known[method.name] { return outcome }
            let outcome = method.authenticateNow(sent, consumers: consumers)
            if let outcome { known[method.name] = outcome }
            return outcome
        }
    }

    /// The whole decision, for both paths: `outcome` gives a method's outcome, or nil when it
    /// must wait (then the answer is `.needs`). Refusals are thrown as `GatewayError`s.
    func decide(
        _ sent: HTTPRequest, exchange: Exchange, outcome: (any Authenticator) -> AuthOutcome?
    ) throws(GatewayError) -> Decision {
        var head = sent
        var identity: Identity?
        if !alternatives.isEmpty {
            // Only routes that take a password count failures per address: keys and tokens cannot be guessed.
            let address =
                countsGuesses ? clientAddress.resolve(peer: exchange.clientAddress, headers: sent.headerFields) : nil
            if countsGuesses, let failures, let wait = failures.retryAfter(address: address) {
                exchange.authFailure = "throttled"
                throw GatewayError.tooManyRequests(retryAfter: wait, headers: [])
            }
            switch try authenticate(exchange: exchange, address: address, outcome: outcome) {
            case .identity(let found): identity = found
            case .needs(let method): return .needs(method)
            }
        } else if let anonymous {
            identity = consumers.identity(of: anonymous, method: "anonymous").withMethod(nil)
        }
        if identity == nil, allowGroups != nil, !alternatives.isEmpty {
            // Authentication was optional and nothing was presented, but only some groups may pass.
            exchange.authFailure = "missing"
            throw GatewayError.unauthenticated(challenges: methods.map(\.challenge))
        }
        if let identity {
            // Set before the group checks, so that a 403 is logged with the consumer it refused.
            exchange.identity = identity
            if let allowGroups, !identity.groups.contains(where: allowGroups.contains) {
                exchange.authFailure = "forbidden"
                throw GatewayError.forbidden
            }
            if identity.groups.contains(where: denyGroups.contains) {
                exchange.authFailure = "forbidden"
                throw GatewayError.forbidden
            }
            head.headerFields[Identity.consumerNameHeader] = identity.consumer
            if !identity.groups.isEmpty {
                head.headerFields[Identity.consumerGroupsHeader] = identity.groups.joined(separator: ",")
            }
            if !identity.scopes.isEmpty {
                head.headerFields[Identity.scopesHeader] = identity.scopes.sorted().joined(separator: " ")
            }
        }
        if !forwardCredential {
            for method in methods { method.strip(&head) }
        }
        return .pass(head)
    }

    private enum Found {
        case identity(Identity?)
        case needs(any Authenticator)
    }

    private func authenticate(
        exchange: Exchange, address: String?, outcome: (any Authenticator) -> AuthOutcome?
    ) throws(GatewayError) -> Found {
        // The common case, one method and no scopes, without the bookkeeping of alternatives.
        if alternatives.count == 1, alternatives[0].steps.count == 1, alternatives[0].scopes.isEmpty {
            let method = alternatives[0].steps[0]
            guard let result = outcome(method) else { return .needs(method) }
            if case .authenticated(let identity) = result { return .identity(identity) }
        }
        return try authenticateAlternatives(exchange: exchange, address: address, outcome: outcome)
    }

    private func authenticateAlternatives(
        exchange: Exchange, address: String?, outcome: (any Authenticator) -> AuthOutcome?
    ) throws(GatewayError) -> Found {
        var presented = false
        var unavailable = false
        var lackedScopes: Identity?
        var reasons: [String] = []
        var guessed = false
        alternatives: for alternative in alternatives {
            var first: Identity?
            var allScopes: Set<String>?
            for method in alternative.steps {
                guard let result = outcome(method) else { return .needs(method) }
                switch result {
                case .authenticated(let identity):
                    presented = true
                    if first == nil { first = identity }
                    allScopes = (allScopes ?? []).union(identity.scopes)
                case .absent:
                    continue alternatives
                case .rejected(let reason):
                    presented = true
                    guessed = guessed || method.guessable
                    reasons.append("\(method.name): \(reason)")
                    continue alternatives
                case .unavailable(let reason):
                    presented = true
                    unavailable = true
                    reasons.append("\(method.name): \(reason)")
                    continue alternatives
                case .throttled(let wait):
                    exchange.authFailure = "throttled"
                    throw GatewayError.tooManyRequests(retryAfter: wait, headers: [])
                }
            }
            guard var identity = first else { continue }
            guard alternative.scopes.isSubset(of: allScopes ?? []) else {
                lackedScopes = lackedScopes ?? identity
                continue
            }
            identity.scopes = allScopes ?? identity.scopes
            return .identity(identity)
        }
        if let lackedScopes {
            exchange.identity = lackedScopes
            exchange.authFailure = "scope"
            throw GatewayError.forbidden
        }
        if !reasons.isEmpty {
            logger.debug(
                "credential refused",
                metadata: ["request.id": "\(exchange.requestID)", "auth.reasons": "\(reasons.joined(separator: "; "))"])
        }
        if unavailable {
            exchange.authFailure = "unavailable"
            throw GatewayError.authUnavailable
        }
        if !presented {
            if let anonymous {
                return .identity(consumers.identity(of: anonymous, method: "anonymous").withMethod(nil))
            }
            if optional { return .identity(nil) }
        }
        exchange.authFailure = presented ? "invalid" : "missing"
        if guessed { failures?.recordFailure(address: address) }
        throw GatewayError.unauthenticated(challenges: methods.map(\.challenge))
    }
}

extension AuthPolicy {
    /// Decides on the event loop when every method it asks can answer at once (an API key, a
    /// cached token); one that must wait (a key fetch, introspection, a password hash) waits in
    /// `admitWaiting`, which decides again from the start.
    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        if alternatives.isEmpty, anonymous == nil { return .proceed }
        // One decision, no retry: nothing to remember between asks, so no table per request.
        let sent = head
        do {
            switch try decide(sent, exchange: exchange, outcome: { $0.authenticateNow(sent, consumers: consumers) }) {
            case .pass(let passed):
                head = passed
                return .proceed
            case .needs:
                return .wait
            }
        } catch {
            return .refuse(error)
        }
    }

    /// The decision with each method that must wait awaited, as the streaming path makes it.
    func admitWaiting(_ head: HTTPRequest, exchange: Exchange) async -> (FastAdmission, HTTPRequest) {
        var known: [String: AuthOutcome] = [:]
        // The methods read only the head; the body stays with the call.
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
        do {
            while true {
                switch try decide(head, exchange: exchange, known: &known) {
                case .pass(let passed):
                    return (.proceed, passed)
                case .needs(let method):
                    known[method.name] = await method.authenticate(request, consumers: consumers)
                }
            }
        } catch {
            return (.refuse(error), head)
        }
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}
}

extension Identity {
    func withMethod(_ method: String?) -> Identity {
        var copy = self
        copy.method = method
        return copy
    }
}
