import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// Enforces every limit that applies to a request: the consumer's plan, then the API's and the
/// route's own. Each is charged in turn; the first that refuses answers 429 problem+json with
/// `Retry-After`. Allowed responses carry `RateLimit-Policy` (every policy that applied) and
/// `RateLimit` (the tightest), per draft-ietf-httpapi-ratelimit-headers, and optionally the
/// legacy `X-RateLimit-*` headers.
struct RateLimitPolicy: FastPolicy {
    let phase = PolicyPhase.request
    /// After authentication (5000), which names the consumer and its plan.
    let priority = 4_000
    let routeLimits: [CompiledLimit]
    let plans: [String: CompiledLimit]
    let cost: Int
    let context: LimitContext
    /// Reads each limit's `by` key from a request.
    let keys: RequestKey

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let identity = exchange.identity
        var limits = routeLimits
        if let plan = identity?.plan, let limit = plans[plan] { limits.insert(limit, at: 0) }
        guard !limits.isEmpty else { return try await next(request, exchange: exchange) }
        let now = context.clock()
        var decisions: [LimitDecision] = []
        for limit in limits {
            let key = keys.value(of: limit.by, request: request, exchange: exchange)
            let results = try await context.store.decide(key, limit: limit, cost: cost, now: now)
            if let refused = results.first(where: { !$0.allowed }) {
                exchange.rateLimit = refused
                throw GatewayError.tooManyRequests(
                    retryAfter: refused.retryAfter ?? 1,
                    headers: context.headers(decisions + results, tightest: refused))
            }
            decisions += results
        }
        // A store that could not answer, with `on-store-failure: allow`, decides nothing.
        guard !decisions.isEmpty else { return try await next(request, exchange: exchange) }
        let tightest = LimitContext.tightest(decisions)
        exchange.rateLimit = tightest
        var response = try await next(request, exchange: exchange)
        for field in context.headers(decisions, tightest: tightest) { response.headers.append(field) }
        return response
    }

    /// Decides on the event loop with a store that answers at once (memory). The first limit is
    /// asked before anything is charged, so a store that must wait (Redis) waits unharmed:
    /// `admitWaiting` then asks every limit.
    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        let identity = exchange.identity
        var limits = routeLimits
        if let plan = identity?.plan, let limit = plans[plan] { limits.insert(limit, at: 0) }
        guard !limits.isEmpty else { return .proceed }
        let now = context.clock()
        var decisions: [LimitDecision] = []
        for limit in limits {
            let key = keys.value(of: limit.by, headers: head.headerFields, exchange: exchange)
            guard let results = context.store.decideNow(key, limit: limit, cost: cost, now: now) else {
                // Only a store that never answers at once says nil, so this is the first limit.
                return .wait
            }
            if let refused = results.first(where: { !$0.allowed }) {
                exchange.rateLimit = refused
                return .refuse(
                    .tooManyRequests(
                        retryAfter: refused.retryAfter ?? 1,
                        headers: context.headers(decisions + results, tightest: refused)))
            }
            decisions += results
        }
        guard !decisions.isEmpty else { return .proceed }
        let tightest = LimitContext.tightest(decisions)
        exchange.rateLimit = tightest
        exchange.responseFields.append(contentsOf: context.headers(decisions, tightest: tightest))
        return .proceed
    }

    /// `admit` with a store that must be asked over the network; runs off the event loop.
    func admitWaiting(_ head: HTTPRequest, exchange: Exchange) async -> (FastAdmission, HTTPRequest) {
        var tally = Tally(policy: self, head: head, exchange: exchange)
        for limit in tally.limits {
            let results: [LimitDecision]
            do {
                results = try await context.store.decide(tally.key(limit), limit: limit, cost: cost, now: tally.now)
            } catch {
                return (tally.failed(error), head)
            }
            if let refusal = tally.add(results) { return (refusal, head) }
        }
        return (tally.proceed(), head)
    }

    /// `admit` with a store whose client is NIO's (Redis): each limit asked in turn, on `loop`.
    func admitWaiting(
        _ head: HTTPRequest, exchange: Exchange, on loop: any EventLoop
    ) -> EventLoopFuture<(FastAdmission, HTTPRequest)>? {
        let tally = Tally(policy: self, head: head, exchange: exchange)
        guard let first = tally.limits.first,
            let asked = context.store.decide(tally.key(first), limit: first, cost: cost, now: tally.now, on: loop)
        else { return nil }
        return settle(asked, index: 0, tally: tally, loop: loop).map { ($0, head) }
    }

    /// The answer for the limit at `index`, then the next limit's, until one refuses or all passed.
    private func settle(
        _ asked: EventLoopFuture<[LimitDecision]>, index: Int, tally: Tally, loop: any EventLoop
    ) -> EventLoopFuture<FastAdmission> {
        asked.flatMap { results in
            var tally = tally
            if let refusal = tally.add(results) { return loop.makeSucceededFuture(refusal) }
            let next = index + 1
            guard next < tally.limits.count else { return loop.makeSucceededFuture(tally.proceed()) }
            let limit = tally.limits[next]
            guard
                let asked = self.context.store.decide(
                    tally.key(limit), limit: limit, cost: self.cost, now: tally.now, on: loop)
            else {
                return loop.makeSucceededFuture(
                    .refuse(.internalError("The limit store stopped answering on the loop.")))
            }
            return self.settle(asked, index: next, tally: tally, loop: loop)
        }
        .flatMapErrorThrowing { error in tally.failed(error) }
    }

    /// One request's decisions across its limits, in order, as `admitWaiting` collects them.
    private struct Tally {
        let policy: RateLimitPolicy
        let head: HTTPRequest
        let exchange: Exchange
        let limits: [CompiledLimit]
        let now: Int64
        var decisions: [LimitDecision] = []

        init(policy: RateLimitPolicy, head: HTTPRequest, exchange: Exchange) {
            self.policy = policy
            self.head = head
            self.exchange = exchange
            var limits = policy.routeLimits
            if let plan = exchange.identity?.plan, let limit = policy.plans[plan] { limits.insert(limit, at: 0) }
            self.limits = limits
            self.now = policy.context.clock()
        }

        func key(_ limit: CompiledLimit) -> String {
            policy.keys.value(of: limit.by, headers: head.headerFields, exchange: exchange)
        }

        /// Adds one limit's results; the refusal when one of them refuses.
        mutating func add(_ results: [LimitDecision]) -> FastAdmission? {
            if let refused = results.first(where: { !$0.allowed }) {
                exchange.rateLimit = refused
                let headers = policy.context.headers(decisions + results, tightest: refused)
                return .refuse(.tooManyRequests(retryAfter: refused.retryAfter ?? 1, headers: headers))
            }
            decisions += results
            return nil
        }

        /// Every limit passed: the tightest goes on the exchange and its fields on the response.
        func proceed() -> FastAdmission {
            guard !decisions.isEmpty else { return .proceed }
            let tightest = LimitContext.tightest(decisions)
            exchange.rateLimit = tightest
            exchange.responseFields.append(contentsOf: policy.context.headers(decisions, tightest: tightest))
            return .proceed
        }

        /// The store failed and its `on-store-failure` said deny (or the error is not the store's).
        func failed(_ error: any Error) -> FastAdmission {
            .refuse(error as? GatewayError ?? .limitStoreUnavailable)
        }
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        head.headerFields.append(contentsOf: exchange.responseFields)
    }
}
