import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The portal's JSON API on the data-plane listener, under `<portal.path>/api`.
///
/// A developer calls it with their own credential (any configured auth method), so it answers
/// about them only. Today it serves `GET …/api/me/limits`: the caller's state under their plan
/// and under every limit counted by consumer or by key, read without charging anything.
struct PortalAPI: Sendable {
    let prefix: String
    let authenticators: [any Authenticator]
    let consumers: ConsumerLookup
    let requestIDHeader: HTTPField.Name

    init(portal: PortalConfig, authenticators: [String: any Authenticator], order: [String], consumers: ConsumerLookup, requestIDHeader: HTTPField.Name) {
        self.prefix = portal.path + "/api"
        self.authenticators = order.compactMap { authenticators[$0] }
        self.consumers = consumers
        self.requestIDHeader = requestIDHeader
    }

    func handles(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix + "/")
    }

    func respond(to request: Request, requestID: String, snapshot: RuntimeSnapshot) async throws -> Response {
        let path = request.uri.path
        guard path == prefix + "/me/limits" else { throw GatewayError.notFound("The portal API has no \(path).") }
        guard request.method == .get || request.method == .head else { throw GatewayError.methodNotAllowed(allowed: ["GET", "HEAD"]) }
        var identity: Identity?
        for method in authenticators {
            if case .authenticated(let found) = await method.authenticate(request, consumers: consumers) {
                identity = found
                break
            }
        }
        guard let identity else { throw GatewayError.unauthenticated(challenges: authenticators.map(\.challenge)) }
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
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store", requestIDHeader: requestID],
            body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
