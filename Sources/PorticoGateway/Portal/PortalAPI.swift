import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The portal's JSON API on the data-plane listener, under `<portal.path>/api`.
///
/// A developer calls it with their own credential (any configured auth method), so it answers
/// about them only:
/// - `GET …/api/me/limits`: their state under their plan and every limit counted by consumer or
///   by key, read without charging anything;
/// - `GET …/api/me/usage`, `…/api/me/usage/top` and `…/api/me/calls`: the admin API's analytics
///   queries (same parameters and answers) limited to their own consumer.
struct PortalAPI: Sendable {
    let prefix: String
    let authenticators: [any Authenticator]
    let consumers: ConsumerLookup
    let requestIDHeader: HTTPField.Name
    /// The call store's queries; nil when the gateway runs without one (benchmarks).
    let analytics: AnalyticsAnswers?

    init(
        portal: PortalConfig, authenticators: [String: any Authenticator], order: [String], consumers: ConsumerLookup,
        requestIDHeader: HTTPField.Name, analytics: AnalyticsAnswers?
    ) {
        self.prefix = portal.path + "/api"
        self.authenticators = order.compactMap { authenticators[$0] }
        self.consumers = consumers
        self.requestIDHeader = requestIDHeader
        self.analytics = analytics
    }

    func handles(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix + "/")
    }

    static let endpoints = ["/me/limits", "/me/usage", "/me/usage/top", "/me/calls"]

    func respond(to request: Request, requestID: String, snapshot: RuntimeSnapshot) async throws -> Response {
        let path = request.uri.path
        let endpoint = String(path.dropFirst(prefix.count))
        guard Self.endpoints.contains(endpoint) else { throw GatewayError.notFound("The portal API has no \(path).") }
        guard request.method == .get || request.method == .head else { throw GatewayError.methodNotAllowed(allowed: ["GET", "HEAD"]) }
        var identity: Identity?
        for method in authenticators {
            if case .authenticated(let found) = await method.authenticate(request, consumers: consumers) {
                identity = found
                break
            }
        }
        guard let identity else { throw GatewayError.unauthenticated(challenges: authenticators.map(\.challenge)) }
        let document: AnalyticsAnswers.Document
        switch endpoint {
        case "/me/limits":
            document = .init(text: try await limits(of: identity, snapshot: snapshot), contentType: "application/json")
        default:
            guard let analytics else { throw GatewayError.notFound("This gateway keeps no call store.") }
            let query = AnalyticsQuery(request.uri.queryParameters)
            switch endpoint {
            case "/me/usage": document = try await analytics.timeSeries(query, consumer: identity.consumer)
            case "/me/usage/top":
                document = try await analytics.top(query, consumer: identity.consumer, dimensions: [.route, .status, .version, .api])
            default: document = try await analytics.calls(query, consumer: identity.consumer)
            }
        }
        return Response(
            status: .ok, headers: [.contentType: document.contentType, .cacheControl: "no-store", requestIDHeader: requestID],
            body: .init(byteBuffer: ByteBuffer(string: document.text)))
    }

    /// The caller's limits, as `{"consumer", "plan", "limits": [...]}`.
    private func limits(of identity: Identity, snapshot: RuntimeSnapshot) async throws -> String {
        let now = snapshot.limits.clock()
        var states: [LimitDecision] = []
        let plan = identity.plan.flatMap { snapshot.planLimits[$0] }
        let byConsumer = snapshot.allLimits.filter { $0.by == [.consumer] }
        states += try await snapshot.limits.store.peek(identity.consumer, limits: byConsumer, now: now)
        if let credential = identity.credential {
            states += try await snapshot.limits.store.peek(credential, limits: snapshot.allLimits.filter { $0.by == [.credential] }, now: now)
        }
        // A plan not charged yet has its full allowance; show it too.
        if let plan, !states.contains(where: { $0.policy == plan.name || $0.policy == plan.quotaName }) {
            var fresh = CompiledLimit.Entry()
            states = plan.apply(to: &fresh, cost: 0, now: now) + states
        }
        var json = "{\"consumer\":\(JSONText.quote(identity.consumer)),\"plan\":" + (identity.plan.map(JSONText.quote) ?? "null")
        json += ",\"limits\":[" + states.map(\.json).joined(separator: ",") + "]}"
        return json
    }
}
