internal import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
import PorticoConfig
import PorticoGateway
import PorticoOpenAPIServer

/// The developer portal on the data-plane listener, under `portal.path`: the static pages and,
/// under `<path>/api`, the JSON API that feeds them.
///
/// The API is the portal's own `openapi.yaml` (served at `<path>/api/openapi.json`): a router
/// built once per config checks each request against the document (`ContractValidation`), the
/// server generated from it (`Generated/`) decodes the input, and `PortalHandler` answers. Every
/// refusal is problem+json with the gateway's request id (`ProblemMiddleware`).
struct PortalAPI: GatewayMount {
    let portal: PortalConfig
    let prefix: String
    let requestIDHeader: HTTPField.Name
    let files: PortalFiles
    let responder: RouterResponder<PortalRequestContext>
    let logger = Logger(label: "portico.portal")
    /// The largest body a portal request may carry (a sign-up, an app): 64 KiB.
    static let bodyLimit = 64 * 1024

    init(
        config: GatewayConfig, portal: PortalConfig, authenticators: [String: any Authenticator],
        consumers: ConsumerLookup,
        requestIDHeader: HTTPField.Name, analytics: AnalyticsAnswers?, failures: AuthFailures = AuthFailures()
    ) {
        self.portal = portal
        self.prefix = portal.path + "/api"
        self.requestIDHeader = requestIDHeader
        self.files = portal.files.map(PortalFiles.init(folder:)) ?? .embedded
        let handler = PortalHandler(
            config: config, portal: portal, authenticators: authenticators, consumers: consumers,
            analytics: analytics, failures: failures, document: Self.document(server: portal.path + "/api"))
        self.responder = Self.router(handler: handler, prefix: prefix, logger: logger).buildResponder()
    }

    /// The API's routes: refusals as problems, the document's checks, the call bound for the
    /// operations, then the generated server under `prefix`.
    static func router(handler: PortalHandler, prefix: String, logger: Logger) -> Router<PortalRequestContext> {
        let router = Router(context: PortalRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(
            middleware: ProblemMiddleware(
                document: .portal, prefix: prefix, name: "The portal API", documentPath: "GET \(prefix)/openapi.json",
                logger: logger))
        router.add(middleware: ContractValidation(document: .portal, prefix: prefix, bodyLimit: Self.bodyLimit))
        router.add(middleware: PortalCallMiddleware())
        do {
            try handler.registerHandlers(
                on: router.group(RouterPath(prefix)), configuration: GeneratedAnswer.configuration,
                middlewares: [BodyPresenceMiddleware(limit: Self.bodyLimit)])
        } catch {
            // Only a path the router cannot hold fails here: the document's paths are fixed at build time and tested.
            preconditionFailure("the portal API's generated routes do not register: \(error)")
        }
        return router
    }

    /// The document as `GET …/openapi.json` answers it: its server is this portal's path.
    static func document(server: String) -> ServedDocument.Object {
        do { return try ServedDocument.portal.object(server: server) } catch {
            // The same document loaded once already (`ServedDocument.portal`); only its servers changed.
            preconditionFailure("the portal API's document does not take a server: \(error)")
        }
    }

    /// On its own host (`portal.host`) the portal alone answers; elsewhere it answers under
    /// `portal.path` and nothing else.
    func claim(host: String?, path: String) -> MountClaim {
        let onPortalHost = isPortalHost(host)
        if onPortalHost == true, !handles(path) { return .refuse }
        return handles(path) && onPortalHost != false ? .serve : .pass
    }

    func handles(_ path: String) -> Bool {
        path == portal.path || path.hasPrefix(portal.path + "/")
    }

    /// Whether a request for `host` is the portal's: any host without `portal.host`, else that one.
    func isPortalHost(_ host: String?) -> Bool? {
        guard let own = portal.host else { return nil }
        return host.map { RouteTable.bareHost($0).lowercased() == own } ?? false
    }

    /// - Parameter clientAddress: the caller's address (behind a trusted proxy, the one it names),
    ///   which sign-up and sign-in count tries against.
    func respond(
        to request: Request, requestID: String, snapshot: RuntimeSnapshot, clientAddress: String?
    ) async throws -> Response {
        let path = request.uri.path
        guard path == prefix || path.hasPrefix(prefix + "/") else {
            return try pageResponse(request, requestID: requestID)
        }
        let context = PortalRequestContext(
            source: .init(
                logger: logger, requestID: requestID, requestIDHeader: requestIDHeader, clientAddress: clientAddress,
                snapshot: snapshot))
        var response = try await responder.respond(to: request, context: context)
        // Every answer describes the moment it is asked, and some carry a session: no cache keeps one.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A static page; `<path>` itself redirects to `<path>/` so relative links resolve.
    private func pageResponse(_ request: Request, requestID: String) throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw GatewayError.methodNotAllowed(allowed: ["GET", "HEAD"])
        }
        let path = request.uri.path
        if path == portal.path {
            return Response(
                status: .permanentRedirect, headers: [.location: portal.path + "/", requestIDHeader: requestID])
        }
        let name = String(path.dropFirst(portal.path.count + 1))
        guard !name.contains("/"),
            let response = files.response(
                for: name, request: request, requestID: requestID, requestIDHeader: requestIDHeader)
        else { throw GatewayError.notFound("The portal has no page \(path).") }
        return response
    }
}
