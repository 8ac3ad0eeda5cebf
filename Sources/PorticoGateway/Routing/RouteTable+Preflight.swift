import HTTPTypes
import PorticoConfig

extension RouteTable {
    /// The route for a request head, its version read as each route's versioning says.
    ///
    /// A CORS preflight (`OPTIONS` naming a method in `Access-Control-Request-Method`) to a
    /// path whose routes do not take `OPTIONS` is matched as the method it asks about, when that
    /// route has a CORS policy to answer it; otherwise it gets the 405 any `OPTIONS` would.
    func match(_ head: HTTPRequest, path: String) -> Match {
        let found = match(host: head.authority, method: head.method.rawValue, path: path) { route in
            RequestedVersion.of(head, for: route)
        }
        guard case .methodNotAllowed = found, CORSPolicy.isPreflight(head),
            let asked = head.headerFields[CORSPolicy.requestMethod],
            HTTPMethodName.isToken(asked)
        else { return found }
        let preflighted = match(host: head.authority, method: asked, path: path) { route in
            RequestedVersion.of(head, for: route)
        }
        if case .route(let route) = preflighted, route.chain.answersPreflight { return preflighted }
        return found
    }
}
