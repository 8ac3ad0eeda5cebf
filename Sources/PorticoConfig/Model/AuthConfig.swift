/// One named way of authenticating callers, from the top-level `auth` section.
///
/// Methods are named so that an API can accept two JWT issuers; APIs, routes and OpenAPI
/// security schemes refer to them by name.
package struct AuthMethodConfig: Sendable, Hashable {
    package var name: String
    package var kind: Kind

    package enum Kind: Sendable, Hashable {
        case apiKey(APIKeyMethod)
        case jwt(JWTMethod)
        case basic(BasicMethod)
        case introspection(IntrospectionMethod)
        case mtls(MTLSMethod)
    }

    package init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// The `type:` value of each kind, as written in the config.
    package var typeName: String {
        switch kind {
        case .apiKey: return "api-key"
        case .jwt: return "jwt"
        case .basic: return "basic"
        case .introspection: return "introspection"
        case .mtls: return "mtls"
        }
    }

    package static let typeNames = ["api-key", "jwt", "basic", "introspection", "mtls"]
}

/// An API key in a header or a query parameter.
package struct APIKeyMethod: Sendable, Hashable {
    package var header: String = "X-API-Key"
    /// A query parameter that may carry the key instead; nil accepts the header only.
    package var query: String?

    package init(header: String = "X-API-Key", query: String? = nil) {
        self.header = header
        self.query = query
    }
}

/// A JSON Web Token in `Authorization: Bearer`, checked with a secret, public keys or a JWKS.
package struct JWTMethod: Sendable, Hashable {
    /// The shared secret of HS256/384/512.
    package var secret: String?
    /// Public keys, each a PEM block or a JWK (JSON).
    package var publicKeys: [String] = []
    /// Where the identity provider publishes its keys.
    package var jwksURL: String?
    /// The required `iss`; nil accepts any issuer.
    package var issuer: String?
    /// The accepted `aud` values; empty accepts any audience.
    package var audiences: [String] = []
    /// The claim whose value names the consumer.
    package var consumerClaim = "sub"
    /// A claim listing the consumer's groups (an array or a space-separated string), if any.
    package var groupsClaim: String?
    /// How far `exp` and `nbf` may be off.
    package var leeway: ConfigDuration = .seconds(30)
    /// The algorithms accepted; empty accepts every one the keys support.
    package var algorithms: [String] = []
    /// How often the JWKS is fetched again even when no unknown `kid` arrives.
    package var jwksRefresh: ConfigDuration = .init(milliseconds: 300_000)
    /// The least time between two fetches of the JWKS caused by an unknown `kid`.
    package var jwksMinRefetch: ConfigDuration = .seconds(10)

    package init() {}

    /// Every algorithm Portico checks.
    package static let supportedAlgorithms = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ]
}

/// HTTP Basic against consumer passwords kept as salted PBKDF2 hashes.
package struct BasicMethod: Sendable, Hashable {
    package var realm = "portico"

    package init(realm: String = "portico") { self.realm = realm }
}

/// OAuth 2.0 token introspection (RFC 7662) of opaque bearer tokens.
package struct IntrospectionMethod: Sendable, Hashable {
    /// The introspection endpoint.
    package var url: String
    /// The gateway's own client credentials at the endpoint (sent as HTTP Basic), if it needs them.
    package var clientID: String?
    package var clientSecret: String?
    /// The response member that names the consumer.
    package var consumerClaim = "sub"
    /// The longest an answer is reused; an active token is never cached past its `exp`.
    package var cacheTTL: ConfigDuration = .init(milliseconds: 300_000)
    /// How long an answer of "not active" is reused.
    package var negativeCacheTTL: ConfigDuration = .seconds(10)
    /// How long to wait for the endpoint.
    package var timeout: ConfigDuration = .seconds(5)

    package init(url: String) { self.url = url }
}

/// Who may call a route: the alternatives of methods, and what the caller needs beyond that.
package struct AuthRequirement: Sendable, Hashable {
    /// Any one alternative is enough; every step of an alternative must succeed (OpenAPI's
    /// security requirement objects). Empty means the route needs no authentication.
    package var alternatives: [[AuthStep]]
    /// True when a request with no credential at all may pass (OpenAPI's empty requirement `{}`).
    package var optional: Bool

    package init(alternatives: [[AuthStep]], optional: Bool = false) {
        self.alternatives = alternatives
        self.optional = optional
    }

    /// `auth: none`.
    package static let none = AuthRequirement(alternatives: [])

    /// The methods named anywhere in the requirement, in order, once each.
    package var methodNames: [String] {
        var seen: [String] = []
        for step in alternatives.joined() where !seen.contains(step.method) { seen.append(step.method) }
        return seen
    }
}

/// One method of an alternative, with the scopes the operation needs from it.
package struct AuthStep: Sendable, Hashable {
    package var method: String
    package var scopes: [String]

    package init(method: String, scopes: [String] = []) {
        self.method = method
        self.scopes = scopes
    }
}

/// A caller known to the gateway: from the config's `consumers`, or created at runtime.
package struct ConsumerConfig: Sendable, Hashable {
    package var name: String
    package var groups: [String] = []
    /// The plan whose limits apply to this consumer.
    package var plan: String?
    /// Scopes granted to this consumer when it authenticates with a key or a password.
    package var scopes: [String] = []
    /// SHA-256 digests (hex) of the consumer's API keys; the keys themselves are never kept.
    package var keyDigests: [String] = []
    /// A PBKDF2 hash of the consumer's password, as `portico consumers hash-password` prints it.
    package var passwordHash: String?
    /// Addresses this consumer may call from, wherever it calls.
    package var ipRules: IPRulesConfig?

    package init(name: String, groups: [String] = [], plan: String? = nil) {
        self.name = name
        self.groups = groups
        self.plan = plan
    }
}

/// A client certificate that a TLS listener with `client-ca` verified.
package struct MTLSMethod: Sendable, Hashable {
    /// Which name of the certificate is the consumer's.
    package var consumerFrom: Source = .subjectCN
    /// Whether the upstream gets the certificate's subject and names as `X-Client-Cert-*`.
    package var forwardCertificate = false

    package enum Source: String, Sendable, Hashable, CaseIterable {
        case subjectCN = "subject-cn"
        case sanDNS = "san-dns"
        case sanEmail = "san-email"
        case sanURI = "san-uri"
    }

    package init() {}
}
