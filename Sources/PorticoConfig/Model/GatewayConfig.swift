/// The whole loaded configuration: what `gateway.yaml` and the OpenAPI documents it names describe.
package struct GatewayConfig: Sendable {
    /// The data-plane listener (the first of `listeners` when the config names only those).
    package var listen: ListenAddress
    /// Every data-plane listener: `listen` as a cleartext one unless the config has only
    /// `listeners`, then those.
    package var listeners: [ListenerConfig] = []
    /// This node of a cluster: its id, shown in `/admin/status`.
    package var node = NodeConfig()
    /// The admin API listener; nil when the config has no `admin` section.
    package var admin: AdminConfig?
    /// Where call records and keys are kept.
    package var store: StoreConfig
    /// Settings of the HTTP server itself.
    package var server: ServerConfig
    /// The upstreams, by name, in file order.
    package var upstreams: [UpstreamConfig]
    /// The APIs, in file order, with the routes of their OpenAPI documents already imported.
    package var apis: [APIConfig]
    /// The named authentication methods, in file order.
    package var auth: [AuthMethodConfig] = []
    /// The consumers declared in the config; more are created at runtime in the store.
    package var consumers: [ConsumerConfig] = []
    /// The plans consumers are on, by name.
    package var plans: [String: PlanConfig] = [:]
    /// Settings shared by all rate limits and quotas.
    package var limits = LimitsSettings()
    /// The developer portal and its JSON API on the data-plane listener; nil when off.
    package var portal: PortalConfig?
    /// The shared response cache's budget; routes turn caching on with their own `cache` key.
    package var cache = CacheSettings()
    /// The config file this was loaded from (absolute).
    package var sourceFile: String
    /// Every file the config was read from: the root file and the OpenAPI documents.
    package var sourceFiles: [String]
    /// A hash over the bytes of every source file, to tell one loaded config from another.
    package var contentHash: String
    /// What the loader noticed that does not stop the config (a document with no operations);
    /// `portico validate` prints them and `serve` logs them.
    package var warnings: [ConfigDiagnostic] = []

    package init(
        listen: ListenAddress = .init(host: "127.0.0.1", port: 8080),
        admin: AdminConfig? = nil,
        store: StoreConfig = .init(),
        server: ServerConfig = .init(),
        upstreams: [UpstreamConfig] = [],
        apis: [APIConfig] = [],
        sourceFile: String = "",
        sourceFiles: [String] = [],
        contentHash: String = ""
    ) {
        self.listen = listen
        self.admin = admin
        self.store = store
        self.server = server
        self.upstreams = upstreams
        self.apis = apis
        self.sourceFile = sourceFile
        self.sourceFiles = sourceFiles
        self.contentHash = contentHash
    }

    /// The auth method with this name, if the config has one.
    package func authMethod(named name: String) -> AuthMethodConfig? {
        auth.first { $0.name == name }
    }

    /// The upstream with this name, if the config has one.
    package func upstream(named name: String) -> UpstreamConfig? {
        upstreams.first { $0.name == name }
    }
}

/// A `host:port` to listen on.
package struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` (all interfaces) or `[::1]:port`.
    package init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The admin API: its own listener, protected by a bearer token.
package struct AdminConfig: Sendable {
    package var listen: ListenAddress
    package var token: String
    /// The shortest token accepted: 32 characters, as many as 128 random bits in hex.
    package static let minimumTokenLength = 32

    package init(listen: ListenAddress = .init(host: "127.0.0.1", port: 9901), token: String) {
        self.listen = listen
        self.token = token
    }
}

/// Where Portico keeps its data.
package struct StoreConfig: Sendable {
    /// The SQLite file (absolute after loading); not used when `postgres` is set.
    package var sqlitePath: String
    /// The PostgreSQL server a cluster's nodes share, instead of SQLite.
    package var postgres: PostgresURL?
    /// Call records held in memory before the writer drops new ones.
    package var queue: Int
    /// Whether calls are recorded at all (on by default; off is for measuring its cost).
    package var callLog = true
    /// How long each level of the call log is kept; nil keeps it forever.
    package var retention: Retention

    package struct Retention: Sendable, Hashable {
        package var calls: ConfigDuration? = .init(milliseconds: 7 * 86_400_000)
        package var minutes: ConfigDuration? = .init(milliseconds: 2 * 86_400_000)
        package var hours: ConfigDuration? = .init(milliseconds: 90 * 86_400_000)
        package var days: ConfigDuration? = nil

        package init() {}
    }

    package init(sqlitePath: String = "data/portico.sqlite", queue: Int = 100_000, retention: Retention = .init()) {
        self.sqlitePath = sqlitePath
        self.queue = queue
        self.retention = retention
    }
}

/// Settings of the data-plane HTTP server.
package struct ServerConfig: Sendable {
    /// How long shutdown waits for in-flight requests before it stops them.
    package var drainTimeout: ConfigDuration
    /// How long an idle client connection stays open.
    package var idleTimeout: ConfigDuration
    /// Whether each request writes one JSON line to standard output.
    package var accessLog: Bool
    /// The header that carries the request id, both ways.
    package var requestIDHeader: String
    /// Whether a change to the config files triggers a reload.
    package var watchConfig: Bool
    /// How often the config files are checked for changes.
    package var watchInterval: ConfigDuration
    /// Whether `/healthz` and `/readyz` answer on the data-plane listener.
    package var healthEndpoints = true
    /// Whether responses carry `Server-Timing` with the gateway's total and the upstream's time.
    package var serverTiming = false
    /// The level of the gateway's own log (JSON lines on standard output); `PORTICO_LOG_LEVEL` and `--log-level` override it.
    package var logLevel = "info"
    /// How request paths are canonicalized before matching and forwarding.
    package var path = PathSettings()
    /// Peers (addresses or CIDR blocks) whose `Forwarded`, `X-Forwarded-*`, `X-Real-IP`,
    /// `X-Original-URL` and `X-Rewrite-URL` are believed; everyone else's are removed.
    package var trustedProxies: [String] = []
    package var headersWithUnderscores = UnderscoreHeaders.drop
    /// Open client connections at most; nil takes 80 % of the file-descriptor limit at start.
    package var maxConnections: Int?
    /// Open client connections per client IP address at most.
    package var maxConnectionsPerIP = 256
    /// How long a client has to send a whole request head (slowloris).
    package var headerTimeout = ConfigDuration.seconds(10)
    /// The slowest request body accepted, in bytes per second, after `body-grace`.
    package var minBodyRate = 1024
    /// How long a request body may run below `min-body-rate` before the request is ended.
    package var bodyGrace = ConfigDuration.seconds(10)

    /// The levels `log-level` accepts, as swift-log names them.
    package static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    package init(
        drainTimeout: ConfigDuration = .seconds(30),
        idleTimeout: ConfigDuration = .seconds(75),
        accessLog: Bool = true,
        requestIDHeader: String = "X-Request-Id",
        watchConfig: Bool = true,
        watchInterval: ConfigDuration = .init(milliseconds: 250)
    ) {
        self.drainTimeout = drainTimeout
        self.idleTimeout = idleTimeout
        self.accessLog = accessLog
        self.requestIDHeader = requestIDHeader
        self.watchConfig = watchConfig
        self.watchInterval = watchInterval
    }
}

/// The developer portal: where on the data-plane listener it and its JSON API are served.
package struct PortalConfig: Sendable, Hashable {
    /// Who may create a developer account, and whether new apps need an operator's approval.
    package enum Signup: String, Sendable, Hashable, CaseIterable {
        /// Anyone may sign up; new apps are active at once.
        case open
        /// Anyone may sign up; new apps wait for an operator to approve them on the admin API.
        case approval
        /// No sign-up; accounts that exist keep working.
        case closed
    }

    /// The path prefix, `/portal` by default; the JSON API is under `<path>/api`.
    package var path = "/portal"
    /// The name shown in the portal's header and page titles.
    package var title = "API portal"
    package var signup = Signup.open
    /// The folder of the portal's static files (absolute once loaded); nil serves the JSON API only.
    package var files: String?
    /// The plan a developer who signs up is put on; nil for none.
    package var plan: String?
    /// How long a sign-in lasts.
    package var sessionLifetime = ConfigDuration.seconds(12 * 3600)
    /// The portal's own host name: it answers there only, and the APIs do not, so a script in an
    /// upstream's response never shares the portal's origin. Nil serves it on every host.
    package var host: String?

    package init(path: String = "/portal") { self.path = path }
}
