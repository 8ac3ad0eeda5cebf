internal import Foundation
internal import OpenAPIRuntime
import PorticoGateway
import PorticoOpenAPIServer

/// The caller's own limits and usage: the signed-in developer's consumer, or the consumer of a
/// credential one of the config's auth methods accepts. The analytics queries are the admin
/// API's, limited to that consumer.
extension PortalHandler {
    func myLimits(_ input: Operations.MyLimits.Input) async throws -> Operations.MyLimits.Output {
        let call = try PortalCall.bound()
        let identity = try await caller(call)
        return .ok(.init(body: .json(try await limits(of: identity, call.snapshot))))
    }

    func myUsage(_ input: Operations.MyUsage.Input) async throws -> Operations.MyUsage.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, status: q.status)
        values["bucket"] = q.bucket
        let (analytics, consumer) = try await analyticsCaller()
        let document = try await analytics.timeSeries(AnalyticsQuery(values), consumer: consumer)
        return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
    }

    func myTop(_ input: Operations.MyTop.Input) async throws -> Operations.MyTop.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, status: q.status)
        values["by"] = q.by?.rawValue
        values["limit"] = q.limit.map(String.init)
        let (analytics, consumer) = try await analyticsCaller()
        let document = try await analytics.top(
            AnalyticsQuery(values), consumer: consumer, dimensions: [.route, .status, .version, .api])
        return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
    }

    func myCalls(_ input: Operations.MyCalls.Input) async throws -> Operations.MyCalls.Output {
        let q = input.query
        var values = AnalyticsParameters.values(
            since: q.since, from: q.from.map { ($0.value1, $0.value2) }, to: q.to.map { ($0.value1, $0.value2) },
            api: q.api, version: q.version, route: q.route, status: q.status)
        values["request_id"] = q.requestId
        values["min_ms"] = q.minMs.map { String($0) }
        values["limit"] = q.limit.map(String.init)
        values["offset"] = q.offset.map(String.init)
        values["format"] = q.format?.rawValue
        let (analytics, consumer) = try await analyticsCaller()
        let document = try await analytics.calls(AnalyticsQuery(values), consumer: consumer)
        switch q.format ?? .json {
        case .json: return .ok(.init(body: .json(try GeneratedAnswer.decode(document.text))))
        case .jsonl: return .ok(.init(body: .applicationXNdjson(HTTPBody(document.text))))
        case .csv: return .ok(.init(body: .csv(HTTPBody(document.text))))
        }
    }

    /// The call store and the caller's consumer, or 404 without a store.
    private func analyticsCaller() async throws -> (AnalyticsAnswers, String) {
        let identity = try await caller(try PortalCall.bound())
        guard let analytics else { throw GatewayError.notFound("This gateway keeps no call store.") }
        return (analytics, identity.consumer)
    }

    /// Who is asking: the signed-in developer, else the first auth method that accepts the
    /// request's credential; 401 with every method's challenge when neither.
    private func caller(_ call: PortalCall) async throws -> Identity {
        if let accounts, let visitor = try? await accounts.visitor(of: call.request),
            let identity = accounts.identity(of: visitor, consumers: consumers)
        {
            return identity
        }
        for method in authenticators {
            if case .authenticated(let found) = await method.authenticate(call.request, consumers: consumers) {
                return found
            }
        }
        throw GatewayError.unauthenticated(challenges: authenticators.map(\.challenge))
    }

    /// The caller's limits by consumer and by credential, and a plan not charged yet at its full allowance.
    private func limits(of identity: Identity, _ snapshot: RuntimeSnapshot) async throws -> Components.Schemas.MyLimits
    {
        let now = snapshot.limits.clock()
        var states: [LimitDecision] = []
        let plan = identity.plan.flatMap { snapshot.planLimits[$0] }
        let byConsumer = snapshot.allLimits.filter { $0.by == [.consumer] }
        states += try await snapshot.limits.store.peek(identity.consumer, limits: byConsumer, now: now)
        if let credential = identity.credential {
            states += try await snapshot.limits.store.peek(
                credential, limits: snapshot.allLimits.filter { $0.by == [.credential] }, now: now)
        }
        if let plan, !states.contains(where: { $0.policy == plan.name || $0.policy == plan.quotaName }) {
            var fresh = CompiledLimit.Entry()
            states = plan.apply(to: &fresh, cost: 0, now: now) + states
        }
        return .init(consumer: identity.consumer, plan: identity.plan, limits: states.map(Self.state))
    }

    /// A limit's state as the document gives it.
    static func state(_ decision: LimitDecision) -> Components.Schemas.LimitState {
        .init(
            policy: decision.policy, quota: decision.quota, windowS: decision.window, remaining: decision.remaining,
            resetS: decision.reset)
    }
}
