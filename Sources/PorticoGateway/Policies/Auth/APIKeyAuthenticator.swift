import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import PorticoConfig

/// `type: api-key`: a key in a header (default `X-API-Key`) or a query parameter.
struct APIKeyAuthenticator: Authenticator {
    let name: String
    let header: HTTPField.Name
    let query: String?
    let challenge: String

    init(name: String, method: APIKeyMethod) {
        self.name = name
        self.challenge = "APIKey header=\"\(method.header)\"" + (method.query.map { ", query=\"\($0)\"" } ?? "")
        self.header = HTTPField.Name(method.header) ?? HTTPField.Name("X-API-Key")!
        self.query = method.query
    }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        authenticateNow(request.head, consumers: consumers)!
    }

    /// A key is checked against in-memory tables: it never waits.
    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome? {
        let presented: String
        if let value = head.headerFields[header] {
            presented = value
        } else if let query, let path = head.path, let value = QueryParameter.value(of: query, in: path) {
            presented = value
        } else {
            return .absent
        }
        let digest = APIKey.digest(presented)
        guard let key = consumers.config.key(digest: digest) ?? consumers.directory.current.key(digest: digest) else {
            return .rejected(reason: "unknown API key")
        }
        let now = Date()
        if let expires = key.expires, expires <= now { return .rejected(reason: "expired API key") }
        guard let consumer = consumers.consumer(named: key.consumer) else {
            return .rejected(reason: "the key's consumer no longer exists")
        }
        if let id = key.id { consumers.directory.recordUse(of: id, at: now) }
        var identity = Identity(
            consumer: consumer.name, groups: consumer.groups, plan: consumer.plan, scopes: consumer.scopes,
            method: name,
            credential: key.label)
        identity.keyPrefix = key.prefix
        return .authenticated(identity)
    }

    func strip(_ head: inout HTTPRequest) {
        head.headerFields[header] = nil
        if let query, let path = head.path { head.path = QueryParameter.removing(query, from: path) }
    }
}
