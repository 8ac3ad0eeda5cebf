import Foundation
import HTTPTypes
import Hummingbird
import PorticoDevPortal
import PorticoGateway
import PorticoStore

/// Developer apps from the portal in the admin API: list them, approve a pending one, and revoke
/// (or, while pending, reject) one. Revoking an app revokes its keys at once.
extension AdminAPI {
    static func addApps(to router: Router<BasicRequestContext>, runtime: GatewayRuntime, store: any DataStore) {
        router.get("/admin/apps") { request, context -> Response in
            try await withJSONBody(request, context) { _ in
                var status: PortalApp.Status?
                if let text = request.uri.queryParameters["status"].map(String.init) {
                    guard let value = PortalApp.Status(rawValue: text) else {
                        throw GatewayError.badRequest("status must be pending, active, rejected or revoked.")
                    }
                    status = value
                }
                var items: [String] = []
                for app in try await store.apps(account: nil, status: status) {
                    items.append(PortalAccounts.json(app, keys: try await store.appKeys(app: app.id, account: app.account)))
                }
                return Response.json("{\"apps\":[" + items.joined(separator: ",") + "]}")
            }
        }
        for (action, approve) in [("approve", true), ("revoke", false)] {
            router.post("/admin/apps/{id}/\(action)") { request, context -> Response in
                try await withJSONBody(request, context) { _ in
                    guard let id = context.parameters.get("id", as: Int64.self) else { throw GatewayError.badRequest("The app id is a number.") }
                    do {
                        let app = try await store.decideApp(id: id, approve: approve)
                        _ = try? await runtime.auth.directory.refresh()
                        return Response.json(PortalAccounts.json(app, keys: try await store.appKeys(app: app.id, account: app.account)))
                    } catch PortalStoreError.noSuchApp {
                        throw GatewayError.notFound("No app \(id).")
                    } catch PortalStoreError.notPending(let status) {
                        throw GatewayError.conflict("App \(id) is \(status.rawValue); only a pending app can be \(approve ? "approved" : "rejected").")
                    }
                }
            }
        }
    }
}
