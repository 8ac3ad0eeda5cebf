import PorticoConfig

/// A route ready to serve: what it matches and the chain that handles it.
public struct CompiledRoute: Sendable {
    /// The API the route belongs to.
    public let apiName: String
    public let apiVersion: String?
    /// The route's name in logs: the operationId, or `METHOD template`.
    public let name: String
    /// The public path template, base path included.
    public let template: String
    /// Upper-case methods; empty means any.
    public let methods: Set<String>
    /// The API's public base path, removed before forwarding when `stripBasePath` is set.
    public let basePath: String
    public let stripBasePath: Bool
    /// How a request names the version, when versions share this path.
    public let versioning: VersioningConfig
    /// Served to requests that name no version.
    public let isDefaultVersion: Bool
    /// The handling chain; nil only while the route is being built.
    public internal(set) var chain: PolicyChain?

    /// True when the route answers `method` (a GET route also answers HEAD).
    func accepts(_ method: String) -> Bool {
        methods.isEmpty || methods.contains(method) || (method == "HEAD" && methods.contains("GET"))
    }
}
