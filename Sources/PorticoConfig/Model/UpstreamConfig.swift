/// A named group of targets that serve one backend service.
package struct UpstreamConfig: Sendable, Hashable {
    /// The name APIs use to point at it. `mock` is reserved for the built-in mock upstream.
    package var name: String
    package var targets: [TargetConfig]
    /// How long opening a connection to a target may take.
    package var connectTimeout: ConfigDuration
    /// How long the target may take to send the response head.
    package var timeout: ConfigDuration
    /// How long a started body may stay silent, either way, before the exchange is dropped.
    package var idleTimeout: ConfigDuration
    /// The most connections kept open to each target.
    package var maxConnections: Int
    /// Whether the client's `Host` is forwarded instead of the target's.
    package var preserveHost: Bool
    package var balance: BalanceStrategy = .roundRobin
    /// What consistent hashing hashes; required with `consistent-hash`.
    package var hashOn: HashKey?
    package var activeHealth: ActiveHealthConfig?
    package var passiveHealth: PassiveHealthConfig?
    package var circuitBreaker: CircuitBreakerConfig?
    package var retries: RetryConfig = .init()
    /// The time for all tries together, back-offs included; nil for no limit beyond the tries'.
    package var totalTimeout: ConfigDuration?
    /// Targets resolved from DNS, besides `targets`.
    package var dns: DNSTargetsConfig?
    /// TLS to the `https://` targets: a private CA, a client certificate, the server name.
    package var tls: UpstreamTLSConfig?
    /// What the targets speak: HTTP/1.1, or HTTP/2 (with prior knowledge over `http://`, h2c).
    package var `protocol`: UpstreamProtocol = .http1

    package init(
        name: String,
        targets: [TargetConfig],
        connectTimeout: ConfigDuration = .seconds(5),
        timeout: ConfigDuration = .seconds(60),
        idleTimeout: ConfigDuration = .seconds(60),
        maxConnections: Int = 256,
        preserveHost: Bool = false
    ) {
        self.name = name
        self.targets = targets
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.preserveHost = preserveHost
    }

    /// The name under which APIs get answers from their OpenAPI examples.
    package static let mockName = "mock"
}

/// One server of an upstream.
package struct TargetConfig: Sendable, Hashable {
    /// `http` or `https`.
    package var scheme: String
    package var host: String
    package var port: Int
    /// A path prefix the target serves under (from the URL), without a trailing slash.
    package var basePath: String
    package var weight: Int
    /// The `Host` sent to this target; nil means `host[:port]` (a DNS target sends the DNS name).
    package var hostHeader: String?

    package init(
        scheme: String, host: String, port: Int, basePath: String = "", weight: Int = 1, hostHeader: String? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.weight = weight
        self.hostHeader = hostHeader
    }

    /// Parses `http://host:port/base`; nil when it is not an http(s) URL with a host.
    package init?(url: String, weight: Int = 1) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(authority)
        var port = scheme == "https" ? 443 : 80
        if let bracketEnd = authority.lastIndex(of: "]") {
            host = String(authority[...bracketEnd])
            let after = authority[authority.index(after: bracketEnd)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = value
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.init(scheme: scheme, host: host, port: port, basePath: path, weight: weight)
    }

    /// `scheme://host:port`, without the base path.
    package var origin: String { "\(scheme)://\(host):\(port)" }
}
