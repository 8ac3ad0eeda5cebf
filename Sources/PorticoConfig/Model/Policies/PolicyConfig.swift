/// Per-API and per-route settings of the policy chain, grouped by the policy that reads them.
///
/// The same keys are read from `gateway.yaml` (on an API or a route) and from `x-portico-*`
/// extensions of an OpenAPI document (on the document or an operation). Each field is optional
/// so that the most specific level that sets it wins; each group knows its own override rule
/// (`PolicySettings`), and the whole-value settings (a route's `cache` replaces its API's) are
/// taken as they are.
package struct PolicyConfig: PolicySettings {
    /// Who may call (`auth`, `allow-groups`, `deny-groups`, `scopes`, `forward-credential`, `anonymous`).
    package var access = AccessSettings()
    /// `rate-limit` and `cost`.
    package var limits = LimitSettings()
    /// `request-headers`, `response-headers`, `max-body-size`, `timeout`, `retry-safe`.
    package var forwarding = ForwardingSettings()
    /// `request-transform` and `response-transform`.
    package var transforms = TransformSettings()
    /// `validate` and `validate-responses`.
    package var validation = ValidationSettings()
    /// `websocket` and `stream-idle-timeout`.
    package var upgrade = UpgradeSettings()
    /// The response cache of these routes; nil leaves it off (or as the API set it).
    package var cache: CachePolicyConfig?
    /// Cross-origin rules for browser clients.
    package var cors: CORSConfig?
    /// Client address allow and deny lists.
    package var ipRules: IPRulesConfig?
    /// Response compression.
    package var compress: CompressConfig?
    /// A share of requests copied to another upstream.
    package var mirror: MirrorConfig?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [
        .group(\.access), .group(\.limits), .group(\.forwarding), .group(\.transforms), .group(\.validation),
        .group(\.upgrade), .take(\.cache), .take(\.cors), .take(\.ipRules), .take(\.compress), .take(\.mirror),
    ]

    /// The keys that set these fields, without the `x-portico-` prefix used in OpenAPI documents.
    package static let keys: Set<String> = [
        "request-headers", "response-headers", "max-body-size", "timeout", "retry-safe",
        "auth", "allow-groups", "deny-groups", "scopes", "forward-credential", "anonymous", "rate-limit", "cost",
        "cache",
        "cors", "ip", "compress", "request-transform", "response-transform", "mirror", "websocket",
        "stream-idle-timeout",
        "validate", "validate-responses",
    ]
}
