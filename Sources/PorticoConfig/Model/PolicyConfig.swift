/// Per-API and per-route settings of the policy chain.
///
/// The same keys are read from `gateway.yaml` (on an API or a route) and from `x-portico-*`
/// extensions of an OpenAPI document (on the document or an operation). Each field is optional
/// so that the most specific level that sets it wins.
public struct PolicyConfig: Sendable, Hashable {
    /// Headers set on, added to or removed from the request before it is forwarded.
    public var requestHeaders: HeaderRules?
    /// Headers set on, added to or removed from the response before it is returned.
    public var responseHeaders: HeaderRules?
    /// The largest request body accepted, in bytes; larger ones get 413.
    public var maxBodySize: Int?
    /// Overrides the upstream's timeout for the response head.
    public var timeout: ConfigDuration?
    /// Marks a non-idempotent route (a POST) as safe to retry.
    public var retrySafe: Bool?
    /// Who may call: `auth: [keys, partner-jwt]`, `auth: none`, or an OpenAPI `security` list.
    public var auth: AuthRequirement?
    /// Consumer groups of which the caller must be in at least one.
    public var allowGroups: [String]?
    /// Consumer groups whose members are refused.
    public var denyGroups: [String]?
    /// Scopes the caller must hold, whichever method it used.
    public var scopes: [String]?
    /// Whether the credential (key, token, password) is forwarded to the upstream; it is stripped by default.
    public var forwardCredential: Bool?
    /// The consumer a request with no credential at all is served as; without it such a request gets 401.
    public var anonymous: String?
    /// Limits on these routes, on top of the consumer's plan.
    public var rateLimits: [LimitConfig]?
    /// What one request counts against rate limits and quotas (default 1).
    public var cost: Int?
    /// The response cache of these routes; nil leaves it off (or as the API set it).
    public var cache: CachePolicyConfig?
    /// Cross-origin rules for browser clients.
    public var cors: CORSConfig?
    /// Client address allow and deny lists.
    public var ipRules: IPRulesConfig?
    /// Response compression.
    public var compress: CompressConfig?
    /// Edits to the request before it is forwarded.
    public var requestTransform: TransformConfig?
    /// Edits to the response before it is returned.
    public var responseTransform: TransformConfig?
    /// A share of requests copied to another upstream.
    public var mirror: MirrorConfig?
    /// Whether `Upgrade` requests (WebSocket) are tunnelled to the upstream after the handshake
    /// passed the policies; without it they are proxied as plain requests, `Upgrade` removed.
    public var websocket: Bool?
    /// How long an upgraded connection may carry no byte either way before it is closed.
    public var streamIdleTimeout: ConfigDuration?
    /// Whether requests are checked against the OpenAPI operation: refused with 400 (`enforce`),
    /// forwarded with the problems logged (`report`), or not checked (`off`, the default).
    public var validate: ValidationMode?
    /// Whether upstream responses are checked against the operation (`report` or `off`).
    public var validateResponses: ValidationMode?

    public init(
        requestHeaders: HeaderRules? = nil,
        responseHeaders: HeaderRules? = nil,
        maxBodySize: Int? = nil,
        timeout: ConfigDuration? = nil,
        retrySafe: Bool? = nil,
        auth: AuthRequirement? = nil,
        allowGroups: [String]? = nil,
        denyGroups: [String]? = nil,
        scopes: [String]? = nil,
        forwardCredential: Bool? = nil,
        anonymous: String? = nil,
        rateLimits: [LimitConfig]? = nil,
        cost: Int? = nil,
        cache: CachePolicyConfig? = nil,
        cors: CORSConfig? = nil,
        ipRules: IPRulesConfig? = nil,
        compress: CompressConfig? = nil,
        requestTransform: TransformConfig? = nil,
        responseTransform: TransformConfig? = nil,
        mirror: MirrorConfig? = nil,
        websocket: Bool? = nil,
        streamIdleTimeout: ConfigDuration? = nil,
        validate: ValidationMode? = nil,
        validateResponses: ValidationMode? = nil
    ) {
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
        self.maxBodySize = maxBodySize
        self.timeout = timeout
        self.retrySafe = retrySafe
        self.auth = auth
        self.allowGroups = allowGroups
        self.denyGroups = denyGroups
        self.scopes = scopes
        self.forwardCredential = forwardCredential
        self.anonymous = anonymous
        self.rateLimits = rateLimits
        self.cost = cost
        self.cache = cache
        self.cors = cors
        self.ipRules = ipRules
        self.compress = compress
        self.requestTransform = requestTransform
        self.responseTransform = responseTransform
        self.mirror = mirror
        self.websocket = websocket
        self.streamIdleTimeout = streamIdleTimeout
        self.validate = validate
        self.validateResponses = validateResponses
    }

    /// These settings with every field that `more` sets taken from `more`: the most specific level
    /// (a route over its API, an operation over its document) wins field by field.
    public func overridden(by more: PolicyConfig) -> PolicyConfig {
        var merged = self
        for field in Self.fields { field(more, &merged) }
        return merged
    }

    /// Each field once, with its override rule: a value set in the more specific level replaces
    /// the other (lists too: a route's `scopes` are the route's, not added to the API's).
    private static let fields: [@Sendable (PolicyConfig, inout PolicyConfig) -> Void] = [
        take(\.requestHeaders),
        take(\.responseHeaders),
        take(\.maxBodySize),
        take(\.timeout),
        take(\.retrySafe),
        take(\.auth),
        take(\.allowGroups),
        take(\.denyGroups),
        take(\.scopes),
        take(\.forwardCredential),
        take(\.anonymous),
        take(\.rateLimits),
        take(\.cost),
        take(\.cache),
        take(\.cors),
        take(\.ipRules),
        take(\.compress),
        take(\.requestTransform),
        take(\.responseTransform),
        take(\.mirror),
        take(\.websocket),
        take(\.streamIdleTimeout),
        take(\.validate),
        take(\.validateResponses),
    ]

    /// How many fields have an override rule; a test holds it to the number of stored properties.
    package static var overrideRuleCount: Int { fields.count }

    private static func take<Value>(
        _ field: WritableKeyPath<PolicyConfig, Value?> & Sendable
    )
        -> @Sendable (PolicyConfig, inout PolicyConfig) -> Void
    {
        { more, merged in
            if let value = more[keyPath: field] { merged[keyPath: field] = value }
        }
    }

    /// The keys that set these fields, without the `x-portico-` prefix used in OpenAPI documents.
    public static let keys: Set<String> = [
        "request-headers", "response-headers", "max-body-size", "timeout", "retry-safe",
        "auth", "allow-groups", "deny-groups", "scopes", "forward-credential", "anonymous", "rate-limit", "cost",
        "cache",
        "cors", "ip", "compress", "request-transform", "response-transform", "mirror", "websocket",
        "stream-idle-timeout",
        "validate", "validate-responses",
    ]
}

/// How strictly messages are checked against their OpenAPI operation.
public enum ValidationMode: String, Sendable, Hashable, CaseIterable {
    /// An invalid request gets 400 problem+json listing each problem.
    case enforce
    /// Invalid messages pass; their problems go to the call log and the metrics.
    case report
    case off
}

/// Edits to a header list, applied in the order remove, set, add.
public struct HeaderRules: Sendable, Hashable {
    /// Replace any existing value.
    public var set: [HeaderPair]
    /// Append a value, keeping existing ones.
    public var add: [HeaderPair]
    /// Header names to drop.
    public var remove: [String]

    public init(set: [HeaderPair] = [], add: [HeaderPair] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }
}

/// A header name and value.
public struct HeaderPair: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
