internal import Foundation
import HTTPTypes
internal import OpenAPIRuntime
import PorticoConfig
import PorticoGateway
import PorticoOpenAPIServer

/// The portal API's operations, as `openapi.yaml` declares them: the generated server decodes and
/// checks each request before it gets here, and encodes each answer from its generated type. An
/// operation refuses a request by throwing a `GatewayError`, which `ProblemMiddleware` answers as
/// problem+json. What an operation needs of the request beyond its input (cookies, the caller's
/// address, the snapshot) is `PortalCall.current`.
///
/// - The docs (`+Docs`): the catalog, each version's index, operation and schema pages, the search.
/// - Accounts, apps and keys (`+Accounts`), through `PortalAccounts`.
/// - The caller's limits and usage (`+Usage`).
struct PortalHandler: APIProtocol {
    let portal: PortalConfig
    /// The config's auth methods, in its order, for the `/me` endpoints and `GET /portal`.
    let authenticators: [any Authenticator]
    let authMethods: [AuthMethodConfig]
    let consumers: ConsumerLookup
    /// The call store's queries; nil when the gateway runs without one (benchmarks).
    let analytics: AnalyticsAnswers?
    /// Accounts and apps; nil without a store.
    let accounts: PortalAccounts?
    let catalog: PortalCatalogLoader
    let document: ServedDocument.Object

    init(
        config: GatewayConfig, portal: PortalConfig, authenticators: [String: any Authenticator],
        consumers: ConsumerLookup, analytics: AnalyticsAnswers?, failures: AuthFailures,
        document: ServedDocument.Object
    ) {
        self.portal = portal
        self.authenticators = config.auth.map(\.name).compactMap { authenticators[$0] }
        self.authMethods = config.auth
        self.consumers = consumers
        self.analytics = analytics
        self.accounts = analytics.map {
            PortalAccounts(store: $0.store, portal: portal, directory: consumers.directory, failures: failures)
        }
        self.catalog = PortalCatalogLoader(config: config)
        self.document = document
    }

    func getDocument(_ input: Operations.GetDocument.Input) async throws -> Operations.GetDocument.Output {
        .ok(.init(body: .json(document)))
    }

    /// The portal's name, sign-up mode and the auth methods a try-it request can use.
    func getPortal(_ input: Operations.GetPortal.Input) async throws -> Operations.GetPortal.Output {
        let methods = authMethods.map { method in
            var described = Self.describe(method)
            described.name = method.name
            return described
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        title: portal.title, path: portal.path, signup: .init(portal.signup),
                        accounts: accounts != nil, auth: methods))))
    }

    /// `type`, and where the credential goes, of an auth method.
    static func describe(_ method: AuthMethodConfig) -> Components.Schemas.AuthMethod {
        var described = Components.Schemas.AuthMethod(_type: .init(rawValue: method.typeName) ?? .apiKey)
        switch method.kind {
        case .apiKey(let key):
            described.header = key.header
            described.query = key.query
        case .jwt, .introspection:
            described.header = "Authorization"
            described.scheme = "Bearer"
        case .basic:
            described.header = "Authorization"
            described.scheme = "Basic"
        case .mtls:
            described.scheme = "client certificate"
        }
        return described
    }
}

extension Components.Schemas.SignUpMode {
    init(_ signup: PortalConfig.Signup) {
        switch signup {
        case .open: self = .open
        case .approval: self = .approval
        case .closed: self = .closed
        }
    }
}
