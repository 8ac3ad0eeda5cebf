import Hummingbird
import PorticoGateway
import Synchronization

/// What an operation of the portal's API needs beyond the input the generated server decoded:
/// the request's headers (the session and CSRF cookies, `Origin`, a credential for the `/me`
/// endpoints), the caller's address and the snapshot. `PortalCallMiddleware` binds it for the
/// length of one request; operations read `PortalCall.current`.
///
/// Cookies go out through it too: OpenAPI's runtime writes a response header as a URI-encoded
/// parameter (`portico_csrf%3D…`), which no browser reads as a cookie, so an operation hands its
/// cookie here (`setCookie`) and the middleware writes it as it is. The document still declares
/// `Set-Cookie` on the operations that send one.
struct PortalCall: Sendable {
    @TaskLocal static var current: PortalCall?

    let request: Request
    let clientAddress: String?
    let snapshot: RuntimeSnapshot
    let cookies = Cookies()

    /// The `Set-Cookie` values an operation sends, written by `PortalCallMiddleware` after it.
    final class Cookies: Sendable {
        private let values = Mutex<[String]>([])

        func add(_ cookie: String) { values.withLock { $0.append(cookie) } }
        var all: [String] { values.withLock { $0 } }
    }

    /// Sends `cookie` (a whole `Set-Cookie` value) with the answer; nil sends none.
    func setCookie(_ cookie: String?) {
        if let cookie { cookies.add(cookie) }
    }

    /// The call being answered; an operation runs only inside `PortalCallMiddleware`.
    static func bound() throws -> PortalCall {
        guard let current else { throw GatewayError.internalError("The portal's request was not bound.") }
        return current
    }
}
