import Foundation
import HTTPTypes
import Hummingbird
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
        var limits = routeLimits
        if let plan = exchange.identity?.plan, let limit = plans[plan] { limits.insert(limit, at: 0) }
        let now = context.clock()
        var decisions: [LimitDecision] = []
        for limit in limits {
            let key = keys.value(of: limit.by, headers: head.headerFields, exchange: exchange)
            let results: [LimitDecision]
            do {
                results = try await context.store.decide(key, limit: limit, cost: cost, now: now)
            } catch {
                return (.refuse(error as? GatewayError ?? .limitStoreUnavailable), head)
            }
            if let refused = results.first(where: { !$0.allowed }) {
                exchange.rateLimit = refused
                let headers = context.headers(decisions + results, tightest: refused)
                return (.refuse(.tooManyRequests(retryAfter: refused.retryAfter ?? 1, headers: headers)), head)
            }
            decisions += results
        }
        guard !decisions.isEmpty else { return (.proceed, head) }
        let tightest = LimitContext.tightest(decisions)
        exchange.rateLimit = tightest
        exchange.responseFields.append(contentsOf: context.headers(decisions, tightest: tightest))
        return (.proceed, head)
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        head.headerFields.append(contentsOf: exchange.responseFields)
    }
}
