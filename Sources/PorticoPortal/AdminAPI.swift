import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import PorticoGateway
import ServiceLifecycle

/// The admin API on its own listener. Every route needs `Authorization: Bearer <admin.token>`.
public struct AdminAPI {
    let runtime: GatewayRuntime
    let config: AdminConfig

    public init(runtime: GatewayRuntime, config: AdminConfig) {
        self.runtime = runtime
        self.config = config
    }

    /// The admin routes, behind the token check.
    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AdminTokenMiddleware(token: config.token))
        let runtime = self.runtime
        router.get("/admin/status") { _, _ -> Response in
            Self.json(Self.status(of: runtime.snapshot))
        }
        return router
    }

    /// The admin listener as a service.
    public func application(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some Service
    {
        Application(
            router: router(),
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: "portico-admin"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    static func status(of snapshot: RuntimeSnapshot) -> String {
        let config = snapshot.config
        var json = "{\"version\":\(JSONText.quote(PorticoVersion.current))"
        json += ",\"config_file\":\(JSONText.quote(config.sourceFile))"
        json += ",\"config_hash\":\(JSONText.quote(config.contentHash))"
        json += ",\"loaded_at\":\(JSONText.quote(ISO8601DateFormatter().string(from: snapshot.loadedAt)))"
        json += ",\"apis\":\(config.apis.count),\"routes\":\(snapshot.routes.count),\"upstreams\":\(config.upstreams.count)"
        json += "}"
        return json
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// Refuses admin requests without the configured bearer token, as problem+json.
struct AdminTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = request.headers[.authorization].flatMap { value -> Substring? in
            value.hasPrefix("Bearer ") ? value.dropFirst("Bearer ".count) : nil
        }
        guard let presented, Self.constantTimeEquals(Array(presented.utf8), Array(token.utf8)) else {
            return GatewayError.unauthorized.response(
                requestID: context.id, instance: request.uri.path, requestIDHeader: HTTPField.Name("X-Request-Id")!)
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
