import Foundation
import HTTPTypes

/// Who is calling, as the auth policy established it; later policies and the call log read it.
package struct Identity: Sendable, Hashable {
    /// The consumer's name.
    package var consumer: String
    package var groups: [String]
    /// The plan whose limits apply.
    package var plan: String?
    /// What the credential allows: a token's `scope`/`scp`, or the consumer's own scopes.
    package var scopes: Set<String>
    /// The auth method that established the identity; nil for the anonymous consumer.
    package var method: String?
    /// Which credential it was, for limits `by: key`: `key:<id>`, `jwt:<method>:<subject>`, …
    package var credential: String?
    /// For an API key, what the call log shows of it: its visible prefix, or `sha256:…` for a config key.
    package var keyPrefix: String?
    /// The token's top-level string, number and boolean claims, for transforms (`${claims.tenant}`).
    package var claims: [String: String] = [:]

    package init(
        consumer: String, groups: [String] = [], plan: String? = nil, scopes: Set<String> = [], method: String? = nil,
        credential: String? = nil
    ) {
        self.consumer = consumer
        self.groups = groups
        self.plan = plan
        self.scopes = scopes
        self.method = method
        self.credential = credential
    }

    /// The claims templates may read: at most 64, each name and value at most 256 bytes, so a
    /// token cannot make the identity (which is cached) large.
    static func scalarClaims(_ object: [String: Any]) -> [String: String] {
        var claims: [String: String] = [:]
        for (name, value) in object where name.utf8.count <= 256 {
            let text: String
            switch value {
            case let string as String: text = string
            case let number as NSNumber:
                // JSONSerialization gives booleans as NSNumbers of Objective-C type `c`.
                text =
                    String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : number.stringValue
            default: continue
            }
            guard text.utf8.count <= 256 else { continue }
            claims[name] = text
            if claims.count == 64 { break }
        }
        return claims
    }

    /// The headers the upstream receives; any a client sends are removed first.
    package static let consumerNameHeader = HTTPField.Name("X-Consumer-Name")!
    package static let consumerGroupsHeader = HTTPField.Name("X-Consumer-Groups")!
    package static let scopesHeader = HTTPField.Name("X-Authenticated-Scopes")!
}

/// What one auth method made of a request.
package enum AuthOutcome: Sendable {
    /// The request carries no credential this method reads.
    case absent
    case authenticated(Identity)
    /// A credential was there and is not valid. Why is logged, never told to the client.
    case rejected(reason: String)
    /// The credential could not be checked (an introspection endpoint down).
    case unavailable(reason: String)
    /// Too many failed tries for this consumer lately; checked before any hashing.
    case throttled(retryAfter: Int)
}
