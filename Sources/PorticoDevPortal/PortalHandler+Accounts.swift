internal import OpenAPIRuntime
import PorticoGateway
import PorticoStore

/// Sign-up, sign-in, sign-out, and the signed-in developer's apps and keys, through
/// `PortalAccounts`. Every POST passes the CSRF check first.
extension PortalHandler {
    /// The accounts, or 404 when the gateway keeps no store.
    private func withAccounts() throws -> (PortalAccounts, PortalCall) {
        guard let accounts else {
            throw GatewayError.notFound("This gateway keeps no store, so the portal has no accounts.")
        }
        return (accounts, try PortalCall.bound())
    }

    /// The visitor of a state-changing request, once its CSRF token and origin are checked.
    private func checkedVisitor() async throws -> (PortalAccounts, PortalAccounts.Visitor, PortalCall) {
        let (accounts, call) = try withAccounts()
        let visitor = try await accounts.visitor(of: call.request)
        try accounts.checkCSRF(call.request, visitor: visitor)
        return (accounts, visitor, call)
    }

    /// The signed-in developer's session, for the app and key operations.
    private func signedIn(checked: Bool) async throws -> (PortalAccounts, PortalSession) {
        let (accounts, call) = try withAccounts()
        let visitor = try await accounts.visitor(of: call.request)
        if checked { try accounts.checkCSRF(call.request, visitor: visitor) }
        guard let session = visitor.session else { throw GatewayError.denied("Sign in to the portal first.") }
        return (accounts, session)
    }

    func getSession(_ input: Operations.GetSession.Input) async throws -> Operations.GetSession.Output {
        let (accounts, call) = try withAccounts()
        let answer = accounts.session(visitor: try await accounts.visitor(of: call.request))
        call.setCookie(answer.cookie)
        return .ok(.init(body: .json(answer.session)))
    }

    func signUp(_ input: Operations.SignUp.Input) async throws -> Operations.SignUp.Output {
        let (accounts, _, call) = try await checkedVisitor()
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        let accepted = try await accounts.signUp(
            email: body.email, password: body.password, address: call.clientAddress)
        return .accepted(.init(body: .json(accepted)))
    }

    func signIn(_ input: Operations.SignIn.Input) async throws -> Operations.SignIn.Output {
        let (accounts, visitor, call) = try await checkedVisitor()
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        let answer = try await accounts.signIn(
            email: body.email, password: body.password, visitor: visitor, address: call.clientAddress)
        call.setCookie(answer.cookie)
        return .ok(.init(body: .json(answer.session)))
    }

    func signOut(_ input: Operations.SignOut.Input) async throws -> Operations.SignOut.Output {
        let (accounts, visitor, call) = try await checkedVisitor()
        call.setCookie(try await accounts.signOut(visitor: visitor))
        return .ok(.init(body: .json(.init(signedIn: false))))
    }

    func listApps(_ input: Operations.ListApps.Input) async throws -> Operations.ListApps.Output {
        let (accounts, session) = try await signedIn(checked: false)
        return .ok(.init(body: .json(try await accounts.apps(of: session))))
    }

    func createApp(_ input: Operations.CreateApp.Input) async throws -> Operations.CreateApp.Output {
        let (accounts, session) = try await signedIn(checked: true)
        guard case .json(let body) = input.body else { throw GatewayError.badRequest("The body is a JSON object.") }
        let app = try await accounts.createApp(name: body.name, description: body.description ?? "", session: session)
        return .created(.init(body: .json(app)))
    }

    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        let (accounts, session) = try await signedIn(checked: true)
        return .created(.init(body: .json(try await accounts.createKey(app: input.path.app, session: session))))
    }

    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        let (accounts, session) = try await signedIn(checked: true)
        var grace: String?
        if case .json(let body) = input.body { grace = body.grace }
        let created = try await accounts.rotateKey(
            input.path.key, app: input.path.app, grace: grace ?? "1h", session: session)
        return .created(.init(body: .json(created)))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        let (accounts, session) = try await signedIn(checked: true)
        try await accounts.revokeKey(input.path.key, app: input.path.app, session: session)
        return .ok(.init(body: .json(.init(revoked: true))))
    }
}
