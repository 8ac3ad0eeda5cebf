/// One published API: a public prefix, the upstream behind it, and its routes.
package struct APIConfig: Sendable {
    package var name: String
    /// The API version label (for example `v1`); used in logs and, later, in version routing.
    package var version: String?
    /// The public path prefix, `/` or `/something` without a trailing slash.
    package var basePath: String
    /// An exact host (`api.example.com`) or a wildcard (`*.example.com`); nil matches every host.
    package var host: String?
    /// The upstream's name, or `mock` to answer from the OpenAPI examples; empty for an API
    /// whose endpoints name their own upstreams.
    package var upstream: String
    /// Whether the base path is removed before forwarding.
    package var stripBasePath: Bool
    /// The routes, then the `endpoints` (composite or branching). No route and no endpoint means
    /// the whole prefix is proxied for any method.
    package var routes: [RouteConfig]
    /// The OpenAPI document the routes came from, if any (absolute path).
    package var openAPIFile: String?
    /// That document, bundled (its files' `$ref`s made local), as the portal, mock and validators read it.
    package var document: OpenAPIDocument?
    /// The path prefix the upstream serves this API under (the OpenAPI `servers` URL path).
    package var upstreamBasePath: String
    /// Settings that apply to every route of this API unless a route overrides them.
    package var policies: PolicyConfig
    /// How a request names this API's version, when several share the name and base path.
    package var versioning: VersioningConfig = .init()
    /// The version served to requests that name none.
    package var isDefaultVersion = false
    /// Deprecation and sunset of this version.
    package var lifecycle: LifecycleConfig = .init()
    /// A weighted split over upstreams, instead of `upstream`.
    package var split: SplitConfig?

    /// The routes served: the declared ones, or for an API with neither routes nor an OpenAPI
    /// document the whole prefix for any method (a document with no operations serves nothing).
    package var servedRoutes: [RouteConfig] {
        routes.isEmpty && document == nil ? [RouteConfig(path: "/**", name: name)] : routes
    }

    package init(
        name: String,
        version: String? = nil,
        basePath: String = "/",
        host: String? = nil,
        upstream: String,
        stripBasePath: Bool = true,
        routes: [RouteConfig] = [],
        openAPIFile: String? = nil,
        upstreamBasePath: String = "",
        policies: PolicyConfig = .init()
    ) {
        self.name = name
        self.version = version
        self.basePath = basePath
        self.host = host
        self.upstream = upstream
        self.stripBasePath = stripBasePath
        self.routes = routes
        self.openAPIFile = openAPIFile
        self.upstreamBasePath = upstreamBasePath
        self.policies = policies
    }
}

/// One route of an API: a path template and the methods it answers.
package struct RouteConfig: Sendable {
    /// The path template below the API's base path, like `/items/{id}`.
    package var path: String
    /// Upper-case methods; empty means any method.
    package var methods: [String]
    /// A name for logs and metrics: the OpenAPI operationId, or `METHOD path`.
    package var name: String?
    /// Settings for this route; they override the API's.
    package var policies: PolicyConfig
    /// The answer the mock upstream gives for this route without a preference, built from
    /// `mockOperation` when asked for (building every operation's at load would cost a large
    /// document's reload most of its time).
    package var mock: MockResponse? { mockOperation?.defaultResponse() }
    /// Deprecation and sunset of this route (OpenAPI `deprecated: true`, or the config's).
    package var lifecycle: LifecycleConfig = .init()
    /// A split for this route alone, overriding the API's upstream or split.
    package var split: SplitConfig?
    /// An answer the gateway gives itself instead of calling an upstream.
    package var respond: StaticResponseConfig?
    /// A redirect the gateway answers with instead of calling an upstream.
    package var redirect: RedirectConfig?
    /// A composite endpoint's backend calls and merge, instead of one upstream.
    package var composite: CompositeConfig?
    /// A branching endpoint's cases, each with its upstream.
    package var branch: BranchConfig?
    /// The operation the portal documents for an endpoint (an OpenAPI operation object), when
    /// the config gives one.
    package var operation: JSONValue?
    /// The path key of the OpenAPI operation this route was imported from (`/files/{name}.json`),
    /// with `methods[0]` the operation's method; nil for routes of the config.
    package var openAPIPath: String?
    /// The operation's compiled contract, when the route validates requests or responses.
    package var contract: OperationContract?
    /// Every response of the operation, for the mock's `Prefer: code=…, example=…, dynamic=true`.
    package var mockOperation: MockOperation?
    /// Where the route was declared, for messages.
    package var location: String

    package init(
        path: String,
        methods: [String] = [],
        name: String? = nil,
        policies: PolicyConfig = .init(),
        location: String = ""
    ) {
        self.path = path
        self.methods = methods
        self.name = name
        self.policies = policies
        self.location = location
    }

    /// The name logs, metrics and rate-limit keys use: `name`, or `METHODS /base/path` without one.
    package func displayName(under basePath: String) -> String {
        name ?? "\(methods.joined(separator: ",")) \(PathTemplate.join(basePath, path))"
    }
}

/// An answer taken from an OpenAPI document's examples.
package struct MockResponse: Sendable, Hashable {
    package var status: Int
    package var contentType: String?
    package var body: [UInt8]

    package init(status: Int, contentType: String?, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}
