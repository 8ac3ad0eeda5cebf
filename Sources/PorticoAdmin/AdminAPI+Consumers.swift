import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoGateway
import PorticoStore

/// Consumers, API keys and passwords in the admin API.
///
/// Every change is applied to the running gateway at once (the credential table is read again),
/// and to other gateways on the same store within their poll interval.
extension AdminAPI {
    static func addConsumers(to router: Router<BasicRequestContext>, runtime: GatewayRuntime, store: any DataStore) {
        @Sendable func administration() -> ConsumerAdministration {
            ConsumerAdministration(store: store, declared: runtime.snapshot.config.consumers)
        }
        @Sendable func applied() async { _ = try? await runtime.auth.directory.refresh() }

        router.get("/admin/consumers") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                Response.json("{\"consumers\":[" + (try await administration().list()).map(\.json).joined(separator: ",") + "]}")
            }
        }
        router.post("/admin/consumers") { request, context -> Response in
            try await withJSONBody(request, context) { body in
                guard let name = body["name"] as? String else { throw GatewayError.badRequest("The body needs a name.") }
                let listing = try await administration().create(
                    name: name, groups: try strings(body, "groups"), plan: body["plan"] as? String,
                    scopes: try strings(body, "scopes"), password: body["password"] as? String)
                await applied()
                return Response.json(listing.json, status: .created)
            }
        }
        router.get("/admin/consumers/{name}") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                let name = context.parameters.get("name") ?? ""
                guard let listing = try await administration().find(name) else { throw GatewayError.notFound("No consumer named '\(name)'.") }
                return Response.json(listing.json)
            }
        }
        router.delete("/admin/consumers/{name}") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                try await administration().delete(context.parameters.get("name") ?? "")
                await applied()
                return Response(status: .noContent)
            }
        }
        router.put("/admin/consumers/{name}/password") { request, context -> Response in
            try await withJSONBody(request, context) { body in
                guard let password = body["password"] as? String else { throw GatewayError.badRequest("The body needs a password.") }
                try await administration().setPassword(password, for: context.parameters.get("name") ?? "")
                await applied()
                return Response(status: .noContent)
            }
        }
        router.post("/admin/consumers/{name}/keys") { request, context -> Response in
            try await withJSONBody(request, context) { body in
                let created = try await administration().createKey(for: context.parameters.get("name") ?? "", expiresIn: body["expires"] as? String)
                await applied()
                return Response.json(created.json, status: .created)
            }
        }
        router.get("/admin/consumers/{name}/keys") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                let keys = try await administration().keys(of: context.parameters.get("name") ?? "")
                return Response.json("{\"keys\":[" + keys.map { $0.json() }.joined(separator: ",") + "]}")
            }
        }
        router.delete("/admin/consumers/{name}/keys/{id}") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                guard let id = context.parameters.get("id", as: Int64.self) else { throw GatewayError.badRequest("The key id is a number.") }
                try await administration().revokeKey(id, of: context.parameters.get("name") ?? "")
                await applied()
                return Response(status: .noContent)
            }
        }
        router.post("/admin/consumers/{name}/keys/{id}/rotate") { request, context -> Response in
            try await withJSONBody(request, context) { body in
                guard let id = context.parameters.get("id", as: Int64.self) else { throw GatewayError.badRequest("The key id is a number.") }
                let created = try await administration().rotateKey(id, of: context.parameters.get("name") ?? "", grace: body["grace"] as? String ?? "24h")
                await applied()
                return Response.json(created.json, status: .created)
            }
        }
    }

    /// Reads an optional JSON object body and turns errors into problem+json.
    static func withJSONBody(
        _ request: Request, _ context: BasicRequestContext, _ body: ([String: Any]) async throws -> Response
    ) async throws -> Response {
        try await answering(request, context) {
            try await body(try await request.jsonObject())
        }
    }

    private static func strings(_ body: [String: Any], _ key: String) throws -> [String] {
        guard let value = body[key] else { return [] }
        guard let list = value as? [String] else { throw GatewayError.badRequest("\(key) must be a list of strings.") }
        return list
    }
}
