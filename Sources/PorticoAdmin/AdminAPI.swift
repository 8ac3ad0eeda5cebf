import Crypto
internal import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
internal import OpenAPIRuntime
import PorticoConfig
import PorticoGateway
import PorticoOpenAPIServer
import PorticoRedis
import PorticoStore
import ServiceLifecycle

/// The admin API on its own listener. Every route needs `Authorization: Bearer <admin.token>`.
package struct AdminAPI: Sendable {
    let runtime: GatewayRuntime
    let config: AdminConfig
    let store: any DataStore
    let callLog: CallLogWriter
    let metrics: GatewayMetrics

    package init(
        runtime: GatewayRuntime, config: AdminConfig, store: any DataStore, callLog: CallLogWriter,
        metrics: GatewayMetrics
    ) {
        self.metrics = metrics
        self.runtime = runtime
        self.config = config
        self.store = store
        self.callLog = callLog
    }

    /// The admin routes, behind the token check: the operations of `openapi.yaml`, registered by
    /// the server code generated from it (`Generated/`), answered by `AdminHandler`.
    func router(logger: Logger) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let runtime = self.runtime
        let startToken = config.token
        // The token is read per request, so a reload can rotate it.
        router.add(middleware: AdminTokenMiddleware { runtime.snapshot.config.admin?.token ?? startToken })
        router.add(
            middleware: ProblemMiddleware(
                document: .admin, name: "The admin API", documentPath: "GET /admin/openapi.json", logger: logger,
                special: Self.rejectedReload))
        router.add(middleware: ContractValidation(document: .admin))
        let handler = AdminHandler(runtime: runtime, store: store, callLog: callLog, metrics: metrics)
        do {
            try handler.registerHandlers(
                on: router, configuration: GeneratedAnswer.configuration,
                middlewares: [BodyPresenceMiddleware(limit: 1 << 20)])
        } catch {
            // Only a path the router cannot hold fails here: the document's paths are fixed at build time and tested.
            preconditionFailure("the admin API's generated routes do not register: \(error)")
        }
        return router
    }

    /// The admin listener as a service.
    package func application(
        logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> some Service
    {
        Application(
            router: router(logger: logger),
            configuration: .init(
                address: .hostname(config.listen.host, port: config.listen.port), serverName: "portico-admin"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("admin listening", metadata: ["listen.address": "\(config.listen.host):\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    /// A rejected reload as 422 problem+json listing every config error, so a CI job can show them.
    @Sendable static func rejectedReload(
        _ error: any Error, _ request: Request, _ context: BasicRequestContext
    )
        -> Response?
    {
        guard let rejected = error as? ReloadRejected else { return nil }
        return reloadProblem(
            message: rejected.message, diagnostics: rejected.diagnostics, requestID: context.id,
            path: request.uri.path)
    }

    /// 422 problem+json listing every config error, so a CI job can show them.
    static func reloadProblem(
        message: String, diagnostics: [ConfigDiagnostic], requestID: String, path: String
    ) -> Response {
        var json = "{\"type\":\"https://portico.dev/problems/invalid-config\",\"title\":\"The config is invalid\""
        json += ",\"status\":422,\"detail\":\"The reload was rejected; the previous config keeps serving.\""
        json += ",\"instance\":\(JSONText.quote(path)),\"request_id\":\(JSONText.quote(requestID))"
        let errors = diagnostics.isEmpty ? [message] : diagnostics.map(\.description)
        json += ",\"errors\":[" + errors.map(JSONText.quote).joined(separator: ",") + "]}"
        return Response(
            status: .unprocessableContent,
            headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }

}

/// Refuses admin requests without the configured bearer token, as problem+json.
struct AdminTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: @Sendable () -> String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let presented = request.headers[.authorization].flatMap { value -> Substring? in
            value.hasPrefix("Bearer ") ? value.dropFirst("Bearer ".count) : nil
        }
        // Both sides are hashed first, so the comparison takes the same time whatever the lengths.
        guard let presented,
            APIKey.constantTimeEquals(
                Array(SHA256.hash(data: Array(presented.utf8))), Array(SHA256.hash(data: Array(token().utf8))))
        else {
            return ProblemMiddleware<Context>.problem(.unauthorized, request, context)
        }
        return try await next(request, context)
    }
}
