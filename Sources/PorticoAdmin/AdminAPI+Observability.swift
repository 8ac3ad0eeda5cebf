import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoGateway
import PorticoStore

/// `GET /metrics` (Prometheus), `GET /admin/routes` (the compiled route table) and
/// `GET /admin/openapi.json` (this API described).
extension AdminAPI {
    static func addObservability(to router: Router<BasicRequestContext>, runtime: GatewayRuntime, callLog: CallLogWriter, metrics: GatewayMetrics) {
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(runtime: runtime, callLog: callLog))))
        }
        router.get("/admin/routes") { _, _ -> Response in
            Response.json(routes(of: runtime.snapshot))
        }
        router.get("/admin/openapi.json") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: AdminOpenAPI.document)))
        }
    }

    static func routes(of snapshot: RuntimeSnapshot) -> String {
        let items = snapshot.routeList.map { route -> String in
            var json = "{\"api\":\(JSONText.quote(route.apiName)),\"version\":" + (route.apiVersion.map(JSONText.quote) ?? "null")
            json += ",\"name\":\(JSONText.quote(route.name)),\"path\":\(JSONText.quote(route.template))"
            json += ",\"methods\":[" + route.methods.sorted().map(JSONText.quote).joined(separator: ",") + "]"
            json += ",\"host\":" + (route.host.map(JSONText.quote) ?? "null")
            json += ",\"upstream\":\(JSONText.quote(route.upstream))"
            json += ",\"policies\":[" + route.policyNames.map(JSONText.quote).joined(separator: ",") + "]}"
            return json
        }
        return "{\"routes\":[" + items.joined(separator: ",") + "]}"
    }
}

/// Answers what the router itself refuses (no such path, wrong method) as problem+json, like every other admin error.
struct AdminProblemMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let problem: GatewayError
            switch error.status {
            case .notFound: problem = .notFound("The admin API has no \(request.uri.path); see GET /admin/openapi.json.")
            case .methodNotAllowed: problem = .methodNotAllowed(allowed: error.headers[values: .allow])
            default: problem = .badRequest(error.body ?? "The request could not be read.")
            }
            return AdminAPI.problem(problem, request, context)
        }
    }
}
