import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// One configured auth method, compiled: it reads its credential from a request and checks it.
package protocol Authenticator: Sendable {
    /// The method's name in the config.
    var name: String { get }
    /// The `WWW-Authenticate` challenge a 401 carries for this method.
    var challenge: String { get }
    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome
    /// Removes the credential this method reads from a request about to be forwarded.
    /// The outcome decided at once, without suspending; nil when this request needs work that
    /// waits (the event-loop path then passes the request to the streaming path).
    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome?
    func strip(_ head: inout HTTPRequest)
    /// Whether its credentials can be guessed (passwords), so that failures count against the
    /// client's address. Random keys and signed tokens cannot.
    var guessable: Bool { get }
}

extension Authenticator {
    var guessable: Bool { false }
    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome? { nil }
}

/// Consumers and keys from the config (per snapshot) and from the store (live).
package struct ConsumerLookup: Sendable {
    let config: CredentialTable
    package let directory: CredentialDirectory

    func consumer(named name: String) -> CredentialTable.Consumer? {
        config.consumers[name] ?? directory.current.consumers[name]
    }

    /// The identity of a known consumer, or a bare one for a name only a token vouches for.
    package func identity(
        of name: String, method: String, scopes: Set<String>? = nil, extraGroups: [String] = [],
        credential: String? = nil
    ) -> Identity {
        let known = consumer(named: name)
        var groups = known?.groups ?? []
        for group in extraGroups where !groups.contains(group) { groups.append(group) }
        return Identity(
            consumer: name, groups: groups, plan: known?.plan, scopes: scopes ?? known?.scopes ?? [], method: method,
            credential: credential)
    }
}

/// A bearer token from `Authorization`, if the request carries one.
func bearerToken(_ request: Request) -> Substring? {
    guard let value = request.headers[.authorization], value.count > 7 else { return nil }
    let scheme = value.prefix(7)
    guard scheme.lowercased() == "bearer " else { return nil }
    let token = value.dropFirst(7).drop { $0 == " " }
    return token.isEmpty ? nil : token
}
