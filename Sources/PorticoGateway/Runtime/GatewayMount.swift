import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// Handlers that an app mounts on the data-plane listener beside the config's routes: the
/// developer portal is one (`PorticoDevPortal`). The gateway itself knows no mount by name.
///
/// A `GatewayMounting` is given to `GatewayRuntime` once; every snapshot asks it for the mount
/// that its config calls for, so a reload rebuilds the mount with the routes.
package protocol GatewayMounting: Sendable {
    /// The mount for `config`, or nil when that config has none (no `portal:`, say).
    func mount(for config: GatewayConfig, services: MountServices) -> (any GatewayMount)?
}

/// One config's mounted handlers.
///
/// A claimed request is served on the streaming path: the snapshot calls `respond`, adds the
/// request id and renders any `GatewayError` it throws as problem+json. Any other error is
/// logged and answered as 502, since its text may name internal types.
package protocol GatewayMount: Sendable {
    /// What the mount does with a request for `host` (the `Host`/`:authority`) and `path`
    /// (canonical, without the query).
    func claim(host: String?, path: String) -> MountClaim
    /// Answers a claimed request. `clientAddress` is the caller as the trusted proxies say.
    func respond(
        to request: Request, requestID: String, snapshot: RuntimeSnapshot, clientAddress: String?
    ) async throws -> Response
}

/// A mount's answer to `claim(host:path:)`.
package enum MountClaim: Sendable, Equatable {
    /// The mount answers it.
    case serve
    /// The host is the mount's own and the path is not its: 404, and no route is tried.
    case refuse
    /// Not the mount's: the routes decide.
    case pass
}

/// What a mount may use from the snapshot that builds it: the config's compiled auth methods,
/// its consumers, the request-id header and the call store.
package struct MountServices: Sendable {
    /// The compiled auth methods, by name.
    package let authenticators: [String: any Authenticator]
    package let consumers: ConsumerLookup
    package let requestIDHeader: HTTPField.Name
    /// The call store's queries; nil when the gateway runs without a store (benchmarks).
    package let analytics: AnalyticsAnswers?
    /// The shared count of failed credentials by client address.
    package let failures: AuthFailures
}
