internal import Foundation
import PorticoGateway
import PorticoStore

/// Developer apps from the portal: list them, approve a pending one, and revoke (or, while
/// pending, reject) one. Revoking an app revokes its keys at once.
extension AdminHandler {
    func listApps(_ input: Operations.ListApps.Input) async throws -> Operations.ListApps.Output {
        let status = input.query.status.flatMap { PortalApp.Status(rawValue: $0.rawValue) }
        var apps: [Components.Schemas.App] = []
        for app in try await store.apps(account: nil, status: status) {
            apps.append(Self.app(app, keys: try await store.appKeys(app: app.id, account: app.account)))
        }
        return .ok(.init(body: .json(.init(apps: apps))))
    }

    func approveApp(_ input: Operations.ApproveApp.Input) async throws -> Operations.ApproveApp.Output {
        .ok(.init(body: .json(try await decide(input.path.app, approve: true))))
    }

    func revokeApp(_ input: Operations.RevokeApp.Input) async throws -> Operations.RevokeApp.Output {
        .ok(.init(body: .json(try await decide(input.path.app, approve: false))))
    }

    /// An app as the admin API lists it, with its keys (never the keys themselves).
    static func app(_ app: PortalApp, keys: [StoredKey], now: Date = Date()) -> Components.Schemas.App {
        .init(
            id: Int(app.id), name: app.name, description: app.description,
            status: .init(rawValue: app.status.rawValue) ?? .pending, owner: app.owner, consumer: app.consumer,
            created: app.created, decided: app.decided, keys: keys.map { key($0, now: now) })
    }

    private func decide(_ id: Int64, approve: Bool) async throws -> Components.Schemas.App {
        do {
            let app = try await store.decideApp(id: id, approve: approve)
            _ = try? await runtime.auth.directory.refresh()
            return Self.app(app, keys: try await store.appKeys(app: app.id, account: app.account))
        } catch PortalStoreError.noSuchApp {
            throw GatewayError.notFound("No app \(id).")
        } catch PortalStoreError.notPending(let status) {
            throw GatewayError.conflict(
                "App \(id) is \(status.rawValue); only a pending app can be \(approve ? "approved" : "rejected").")
        }
    }
}
