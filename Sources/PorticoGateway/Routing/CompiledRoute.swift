import PorticoConfig

/// A route ready to serve: what it matches and the chain that handles it.
package struct CompiledRoute: Sendable {
    /// The API the route belongs to.
    package let apiName: String
    package let apiVersion: String?
    /// The route's name in logs: the operationId, or `METHOD template`.
    package let name: String
    /// The public path template, base path included.
    package let template: String
    /// Upper-case methods; empty means any.
    package let methods: Set<String>
    /// The API's public base path, removed before forwarding when `stripBasePath` is set.
    package let basePath: String
    package let stripBasePath: Bool
    /// How a request names the version, when versions share this path.
    package let versioning: VersioningConfig
    /// Served to requests that name no version.
    package let isDefaultVersion: Bool
    /// The handling chain, built with the route.
    package let chain: PolicyChain
    /// The host the route is bound to, if any.
    package internal(set) var host: String?
    /// Where requests go: an upstream's name, `mock`, or `split:a,b`.
    package internal(set) var upstream = ""
    /// With `websocket: true`: how long an upgraded connection may be silent both ways
    /// (`stream-idle-timeout`, 5 minutes by default). nil: `Upgrade` requests are proxied as plain ones.
    package internal(set) var upgradeIdleTimeout: Duration?

    /// The chain's steps by name, in the order they run: `auth`, `rate-limit`, `cache`, …, then `proxy`, `mock` or `split`.
    package var policyNames: [String] {
        chain.policies.map { policy in
            switch policy {
            case is LifecyclePolicy: return "lifecycle"
            case is AuthPolicy: return "auth"
            case is RateLimitPolicy: return "rate-limit"
            case is BodySizeLimitPolicy: return "max-body-size"
            case is CachePolicy: return "cache"
            case is HeadersPolicy: return "headers"
            case is IPRulePolicy: return "ip"
            case is CORSPolicy: return "cors"
            case is TransformPolicy: return "transform"
            case is BodyTransformPolicy: return "body-transform"
            case is RequestValidationPolicy: return "validate"
            case is ResponseValidationPolicy: return "validate-responses"
            case is AcceptEncodingPolicy: return "accept-encoding"
            case is CompressPolicy: return "compress"
            case is MirrorPolicy: return "mirror"
            case is StaticStage: return "respond"
            case is RedirectStage: return "redirect"
            case is ProxyStage: return "proxy"
            case is MockStage: return "mock"
            case is SplitStage: return "split"
            case is CompositeStage: return "composite"
            case is BranchStage: return "branch"
            default: return String(describing: type(of: policy))
            }
        }
    }

    /// True when the route answers `method` (a GET route also answers HEAD).
    func accepts(_ method: String) -> Bool {
        methods.isEmpty || methods.contains(method) || (method == "HEAD" && methods.contains("GET"))
    }
}
