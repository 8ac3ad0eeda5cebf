import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// Enforces every limit that applies to a request: the consumer's plan, then the API's and the
/// route's own. Each is charged in turn; the first that refuses answers 429 problem+json with
/// `Retry-After`. Allowed responses carry `RateLimit-Policy` (every policy that applied) and
/// `RateLimit` (the tightest), per draft-ietf-httpapi-ratelimit-headers, and optionally the
/// legacy `X-RateLimit-*` headers.
struct RateLimitPolicy: Policy {
    let phase = PolicyPhase.request
    /// After authentication (5000), which names the consumer and its plan.
    let priority = 4_000
    let routeLimits: [CompiledLimit]
    let plans: [String: CompiledLimit]
    let cost: Int
    let context: LimitContext
    let routeName: String
    let apiName: String

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let identity = exchange.identity
        var limits = routeLimits
        if let plan = identity?.plan, let limit = plans[plan] { limits.insert(limit, at: 0) }
        guard !limits.isEmpty else { return try await next(request, exchange: exchange) }
        let now = context.clock()
        var decisions: [LimitDecision] = []
        for limit in limits {
            let key = self.key(limit.by, request: request, exchange: exchange)
            let results = try await context.store.decide(key, limit: limit, cost: cost, now: now)
            if let refused = results.first(where: { !$0.allowed }) {
                exchange.rateLimit = refused
                throw GatewayError.tooManyRequests(
                    retryAfter: refused.retryAfter ?? 1, headers: context.headers(decisions + results, tightest: refused))
            }
            decisions += results
        }
        let tightest = LimitContext.tightest(decisions)
        exchange.rateLimit = tightest
        var response = try await next(request, exchange: exchange)
        for field in context.headers(decisions, tightest: tightest) { response.headers.append(field) }
        return response
    }

    /// The key's value for this request: the parts joined, each falling back sensibly.
    func key(_ parts: [LimitKeyPart], request: Request, exchange: Exchange) -> String {
        if parts.count == 1 { return value(parts[0], request: request, exchange: exchange) }
        return parts.map { value($0, request: request, exchange: exchange) }.joined(separator: "|")
    }

    private func value(_ part: LimitKeyPart, request: Request, exchange: Exchange) -> String {
        switch part {
        case .consumer:
            if let consumer = exchange.identity?.consumer { return consumer }
            return "ip:" + clientIP(request, exchange: exchange)
        case .credential:
            if let credential = exchange.identity?.credential { return credential }
            return "ip:" + clientIP(request, exchange: exchange)
        case .ip: return clientIP(request, exchange: exchange)
        case .route: return routeName
        case .api: return apiName
        case .header(let name): return HTTPField.Name(name).flatMap { request.headers[$0] } ?? ""
        }
    }

    private func clientIP(_ request: Request, exchange: Exchange) -> String {
        context.clientAddress.resolve(peer: exchange.clientAddress, headers: request.headers) ?? "unknown"
    }
}
