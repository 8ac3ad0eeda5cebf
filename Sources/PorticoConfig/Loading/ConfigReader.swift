import Foundation
import Synchronization
import Yams

extension ConfigLoader {
    /// The walk over one config tree. Each `read…` reports problems where they are and goes on.
    struct Reader {
        let sink: DiagnosticSink
        let folder: String
        /// The folder as the operator named it, so messages show paths the way they were typed.
        let displayFolder: String
        let environment: EnvironmentInterpolation

        func readRoot(_ root: ConfigNode, into config: inout GatewayConfig, hash: inout ContentHash) {
            guard let fields = root.fields(allowed: ConfigLoader.rootKeys, context: "the config") else { return }
            if let node = fields["listen"], let address = readAddress(node, context: "listen") {
                config.listen = address
            }
            if let node = fields["listeners"] { config.listeners = readListeners(node, config: &config, hash: &hash) }
            if fields["listen"] != nil || fields["listeners"] == nil {
                if config.listen.port != 0, config.listeners.contains(where: { $0.listen == config.listen }) {
                    fields["listen"]?.report("listen \(config.listen) is also in listeners; name it once")
                }
                config.listeners.insert(ListenerConfig(listen: config.listen), at: 0)
            } else if let first = config.listeners.first {
                config.listen = first.listen
            }
            if let node = fields["node"] { config.node = readNode(node) }
            if let node = fields["admin"] { config.admin = readAdmin(node) }
            if let node = fields["store"] { config.store = readStore(node) }
            config.store.sqlitePath = ConfigLoader.absolute(config.store.sqlitePath, relativeTo: folder)
            if let node = fields["server"] { config.server = readServer(node) }
            if let node = fields["upstreams"] { config.upstreams = readUpstreams(node) }
            // Upstream certificate files are watched and hashed, as the config is.
            for tls in config.upstreams.compactMap(\.tls) {
                config.sourceFiles += tls.files
                for bytes in [tls.caPEM, tls.certPEM, tls.keyPEM].compactMap({ $0 }) { hash.combine(bytes) }
            }
            if let node = fields["auth"] { config.auth = readAuthMethods(node) }
            if let node = fields["consumers"] { config.consumers = readConsumers(node) }
            if let node = fields["plans"] { config.plans = readPlans(node) }
            if let node = fields["limits"] { config.limits = readLimitsSettings(node) }
            if let node = fields["portal"] { config.portal = readPortal(node) }
            if let node = fields["cache"] { config.cache = readCacheSettings(node) }

            var names: Set<String> = []
            let apiNodes = fields["apis"]?.sequence(context: "apis") ?? []
            let documents = importDocuments(of: apiNodes, authMethods: config.auth)
            for (index, apiNode) in apiNodes.enumerated() {
                guard let api = readAPI(apiNode, index: index, document: documents[index], hash: &hash, config: &config)
                else { continue }
                if !names.insert(api.name + "@" + (api.version ?? "")).inserted {
                    apiNode.report("duplicate API '\(api.name)'" + (api.version.map { " version \($0)" } ?? ""))
                }
                let routeSides = api.routes.flatMap { $0.split?.sides.map(\.upstream) ?? [] }
                let endpointUpstreams = api.routes.flatMap { route in
                    (route.composite?.calls.map(\.upstream) ?? []) + (route.branch?.upstreams ?? [])
                }
                for upstream
                    in (api.split.map({ $0.sides.map(\.upstream) }) ?? (api.upstream.isEmpty ? [] : [api.upstream]))
                    + routeSides + endpointUpstreams
                where upstream != UpstreamConfig.mockName && config.upstream(named: upstream) == nil {
                    let known = (config.upstreams.map(\.name) + [UpstreamConfig.mockName]).joined(separator: ", ")
                    let at =
                        apiNode.node.value(forKey: api.split == nil ? "upstream" : "split").map(apiNode.child)
                        ?? apiNode
                    at.report(
                        "API '\(api.name)' names upstream '\(upstream)', which is not defined (defined: \(known))")
                }
                for mirror in ([api.policies.mirror] + api.routes.map(\.policies.mirror)).compactMap({ $0 })
                where config.upstream(named: mirror.upstream) == nil {
                    let known = config.upstreams.map(\.name).joined(separator: ", ")
                    apiNode.report(
                        "API '\(api.name)' mirrors to upstream '\(mirror.upstream)', which is not defined (defined: \(known))"
                    )
                }
                if api.upstream == UpstreamConfig.mockName, api.openAPIFile == nil {
                    apiNode.report(
                        "API '\(api.name)' uses the mock upstream, which needs an openapi document to answer from")
                }
                config.apis.append(api)
            }
            checkRouteConflicts(config.apis, root: root)
            checkAuthReferences(config, root: root)
            if let mtls = config.auth.first(where: { if case .mtls = $0.kind { true } else { false } }),
                !config.listeners.contains(where: { $0.tls?.clientCAPEM != nil })
            {
                let at = fields["auth"].flatMap { auth in auth.node.value(forKey: mtls.name).map(auth.child) } ?? root
                at.report(
                    "auth method '\(mtls.name)' is mtls, but no listener asks for client certificates (listeners[].tls.client-ca)"
                )
            }
            checkPlans(config, root: root)
            if let plan = config.portal?.plan, config.plans[plan] == nil {
                let defined = config.plans.isEmpty ? "none" : config.plans.keys.sorted().joined(separator: ", ")
                let at =
                    fields["portal"].flatMap { portal in portal.node.value(forKey: "plan").map(portal.child) } ?? root
                at.report("portal.plan '\(plan)' is not defined in plans (defined: \(defined))")
            }
            if let portal = config.portal {
                for api in config.apis where api.basePath == portal.path || api.basePath.hasPrefix(portal.path + "/") {
                    root.report(
                        "API '\(api.name)' uses base-path \(api.basePath), which is under the portal's path \(portal.path); move one of them"
                    )
                }
            }
            // `server.trusted-proxies` and the older `limits.trusted-proxies` are one list.
            let proxies =
                config.server.trustedProxies
                + config.limits.trustedProxies.filter { !config.server.trustedProxies.contains($0) }
            config.server.trustedProxies = proxies
            config.limits.trustedProxies = proxies
            if config.server.healthEndpoints {
                for api in config.apis
                where ["/healthz", "/readyz"].contains(where: { api.basePath == $0 || api.basePath.hasPrefix($0 + "/") }
                ) {
                    root.report(
                        "API '\(api.name)' uses base-path \(api.basePath), which the health endpoints answer; move it or set server.health-endpoints: false"
                    )
                }
            }
            checkVersions(config.apis, root: root)
        }

        // MARK: Sections

        func readPortal(_ node: ConfigNode) -> PortalConfig? {
            let keys: Set<String> = ["path", "title", "signup", "files", "plan", "session-lifetime", "host"]
            guard let fields = node.fields(allowed: keys, context: "portal") else { return nil }
            var portal = PortalConfig()
            if let pathNode = fields["path"], let text = pathNode.string(context: "portal.path") {
                guard let path = PathTemplate.normalizePrefix(text), path != "/" else {
                    pathNode.report("portal.path must be a path like /portal, found '\(text)'")
                    return nil
                }
                portal.path = path
            }
            if let title = fields["title"]?.string(context: "portal.title") { portal.title = title }
            if let hostNode = fields["host"], let host = hostNode.nonEmptyString(context: "portal.host") {
                if host.contains("/") || host.contains(":") || host.contains("*") || host.contains(" ") {
                    hostNode.report("portal.host must be a host name like portal.example.com, found '\(host)'")
                } else {
                    portal.host = host.lowercased()
                }
            }
            if let signupNode = fields["signup"], let text = signupNode.string(context: "portal.signup") {
                if let signup = PortalConfig.Signup(rawValue: text) {
                    portal.signup = signup
                } else {
                    signupNode.report("portal.signup must be open, approval or closed, found '\(text)'")
                }
            }
            if let filesNode = fields["files"], let text = filesNode.string(context: "portal.files") {
                let folder = ConfigLoader.absolute(text, relativeTo: self.folder)
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder + "/index.html", isDirectory: &isFolder),
                    !isFolder.boolValue
                {
                    portal.files = folder
                } else {
                    filesNode.report("portal.files: no index.html in '\(text)' (resolved to \(folder))")
                }
            }
            if let plan = fields["plan"]?.string(context: "portal.plan") { portal.plan = plan }
            if let value = fields["session-lifetime"]?.duration(context: "portal.session-lifetime", atLeast: "1m") {
                portal.sessionLifetime = value
            }
            return portal
        }

        func readAddress(_ node: ConfigNode, context: String) -> ListenAddress? {
            guard let text = node.string(context: context) else { return nil }
            guard let address = ListenAddress(parsing: text) else {
                node.report("\(context) must be host:port, found '\(text)'")
                return nil
            }
            return address
        }

        func readAdmin(_ node: ConfigNode) -> AdminConfig? {
            guard let fields = node.fields(allowed: ["listen", "token"], context: "admin") else { return nil }
            var admin = AdminConfig(token: "")
            if let listen = fields["listen"], let address = readAddress(listen, context: "admin.listen") {
                admin.listen = address
            }
            guard let tokenNode = fields["token"] else {
                node.report("admin needs a token (for example token: ${PORTICO_ADMIN_TOKEN})")
                return nil
            }
            guard let token = tokenNode.nonEmptyString(context: "admin.token") else { return nil }
            guard token.utf8.count >= AdminConfig.minimumTokenLength else {
                tokenNode.report(
                    "admin.token must be at least \(AdminConfig.minimumTokenLength) characters, found \(token.utf8.count) (make one with: openssl rand -hex 32)"
                )
                return nil
            }
            admin.token = token
            return admin
        }

        func readStore(_ node: ConfigNode) -> StoreConfig {
            var store = StoreConfig()
            guard
                let fields = node.fields(
                    allowed: ["sqlite", "postgres", "queue", "retention", "call-log"], context: "store")
            else {
                return store
            }
            if let urlNode = fields["postgres"], let text = urlNode.nonEmptyString(context: "store.postgres") {
                do {
                    store.postgres = try PostgresURL(parsing: text)
                } catch {
                    urlNode.report("store.postgres: \(error)")
                }
                if fields["sqlite"] != nil { urlNode.report("store: give sqlite or postgres, not both") }
            }
            if let value = fields["call-log"]?.bool(context: "store.call-log") { store.callLog = value }
            if let path = fields["sqlite"]?.nonEmptyString(context: "store.sqlite") { store.sqlitePath = path }
            if let value = fields["queue"]?.int(context: "store.queue", range: 1...100_000_000) { store.queue = value }
            if let node = fields["retention"],
                let levels = node.fields(allowed: ["calls", "minutes", "hours", "days"], context: "store.retention")
            {
                func keep(_ key: String) -> ConfigDuration?? {
                    guard let node = levels[key], let text = node.string(context: "store.retention.\(key)") else {
                        return nil
                    }
                    if text == "forever" { return .some(nil) }
                    guard let value = ConfigDuration(parsing: text) else {
                        node.report(
                            "store.retention.\(key): bad duration '\(text)' (write it like 7d or 12h, or forever)")
                        return nil
                    }
                    return .some(value)
                }
                if let value = keep("calls") { store.retention.calls = value }
                if let value = keep("minutes") { store.retention.minutes = value }
                if let value = keep("hours") { store.retention.hours = value }
                if let value = keep("days") { store.retention.days = value }
            }
            return store
        }

        func readServer(_ node: ConfigNode) -> ServerConfig {
            var server = ServerConfig()
            let keys: Set<String> = [
                "drain-timeout", "idle-timeout", "access-log", "request-id-header", "watch-config", "watch-interval",
                "health-endpoints", "server-timing", "log-level", "path", "trusted-proxies", "headers-with-underscores",
                "max-connections", "max-connections-per-ip", "header-timeout", "min-body-rate", "body-grace",
            ]
            guard let fields = node.fields(allowed: keys, context: "server") else { return server }
            if let value = fields["drain-timeout"]?.duration(context: "server.drain-timeout") {
                server.drainTimeout = value
            }
            if let value = fields["idle-timeout"]?.duration(context: "server.idle-timeout") {
                server.idleTimeout = value
            }
            if let value = fields["access-log"]?.bool(context: "server.access-log") { server.accessLog = value }
            if let value = fields["request-id-header"]?.nonEmptyString(context: "server.request-id-header") {
                server.requestIDHeader = value
            }
            if let value = fields["watch-config"]?.bool(context: "server.watch-config") { server.watchConfig = value }
            if let value = fields["watch-interval"]?.duration(context: "server.watch-interval", atLeast: "10ms") {
                server.watchInterval = value
            }
            if let value = fields["health-endpoints"]?.bool(context: "server.health-endpoints") {
                server.healthEndpoints = value
            }
            if let value = fields["server-timing"]?.bool(context: "server.server-timing") {
                server.serverTiming = value
            }
            if let node = fields["log-level"], let level = node.nonEmptyString(context: "server.log-level") {
                if ServerConfig.logLevels.contains(level) {
                    server.logLevel = level
                } else {
                    node.report(
                        "server.log-level: unknown level '\(level)' (known: \(ServerConfig.logLevels.joined(separator: ", ")))"
                    )
                }
            }
            if let node = fields["path"],
                let pathFields = node.fields(allowed: ["escaped-slashes", "merge-slashes"], context: "server.path")
            {
                if let value = pathFields["escaped-slashes"]?.choice(
                    PathSettings.EscapedSlashes.self, context: "server.path.escaped-slashes")
                {
                    server.path.escapedSlashes = value
                }
                if let value = pathFields["merge-slashes"]?.bool(context: "server.path.merge-slashes") {
                    server.path.mergeSlashes = value
                }
            }
            if let node = fields["trusted-proxies"], let proxies = node.stringList(context: "server.trusted-proxies") {
                for proxy in proxies where CIDRBlock(parsing: proxy) == nil {
                    node.report("server.trusted-proxies: '\(proxy)' is not an address or a CIDR block like 10.0.0.0/8")
                }
                server.trustedProxies = proxies
            }
            if let value = fields["headers-with-underscores"]?.choice(
                UnderscoreHeaders.self, context: "server.headers-with-underscores")
            {
                server.headersWithUnderscores = value
            }
            if let value = fields["max-connections"]?.int(context: "server.max-connections", range: 1...10_000_000) {
                server.maxConnections = value
            }
            if let value = fields["max-connections-per-ip"]?.int(
                context: "server.max-connections-per-ip", range: 1...10_000_000)
            {
                server.maxConnectionsPerIP = value
            }
            if let value = fields["header-timeout"]?.duration(context: "server.header-timeout", atLeast: "100ms") {
                server.headerTimeout = value
            }
            if let value = fields["min-body-rate"]?.byteSize(context: "server.min-body-rate") {
                server.minBodyRate = value
            }
            if let value = fields["body-grace"]?.duration(context: "server.body-grace", atLeast: "100ms") {
                server.bodyGrace = value
            }
            return server
        }

        func readUpstreams(_ node: ConfigNode) -> [UpstreamConfig] {
            guard let entries = node.mapping(allowed: nil, context: "upstreams") else { return [] }
            var upstreams: [UpstreamConfig] = []
            for entry in entries {
                if entry.key == UpstreamConfig.mockName {
                    entry.keyNode.report("the upstream name 'mock' is reserved for answers from OpenAPI examples")
                    continue
                }
                if let upstream = readUpstream(entry.value, name: entry.key) { upstreams.append(upstream) }
            }
            return upstreams
        }

        func readUpstream(_ node: ConfigNode, name: String) -> UpstreamConfig? {
            let context = "upstream '\(name)'"
            guard let fields = node.fields(allowed: ConfigLoader.upstreamKeys, context: context) else { return nil }
            var upstream = UpstreamConfig(name: name, targets: [])
            if let dnsNode = fields["dns"] { upstream.dns = readDNS(dnsNode, context: context) }
            guard let targetsNode = fields["targets"] else {
                if fields["dns"] == nil {
                    node.report("\(context) needs targets (a list of - url: http://host:port) or dns")
                    return nil
                }
                readResilience(fields, into: &upstream, context: context)
                return upstream
            }
            for targetNode in targetsNode.sequence(context: "\(context) targets") ?? [] {
                guard
                    let target = targetNode.fields(allowed: ["url", "weight"], context: "a target of \(context)"),
                    let urlNode = target["url"]
                        ?? {
                            targetNode.report("a target needs a url"); return nil
                        }(),
                    let url = urlNode.string(context: "url")
                else { continue }
                let weight = target["weight"]?.int(context: "weight", range: 0...10_000) ?? 1
                guard let parsed = TargetConfig(url: url, weight: weight) else {
                    urlNode.report("bad target url '\(url)' (expected http://host:port or https://host:port)")
                    continue
                }
                upstream.targets.append(parsed)
            }
            if case .sequence(let list) = targetsNode.node, list.isEmpty {
                targetsNode.report("\(context) has an empty targets list")
            }
            if let value = fields["connect-timeout"]?.duration(context: "connect-timeout") {
                upstream.connectTimeout = value
            }
            if let value = fields["timeout"]?.duration(context: "timeout") { upstream.timeout = value }
            if let value = fields["idle-timeout"]?.duration(context: "idle-timeout") { upstream.idleTimeout = value }
            if let value = fields["max-connections"]?.int(context: "max-connections", range: 1...100_000) {
                upstream.maxConnections = value
            }
            if let value = fields["preserve-host"]?.bool(context: "preserve-host") { upstream.preserveHost = value }
            if let node = fields["protocol"], let text = node.string(context: "protocol") {
                if let value = UpstreamProtocol(rawValue: text) {
                    upstream.protocol = value
                } else {
                    node.report("unknown protocol '\(text)' for \(context) (known: http/1.1, h2)")
                }
            }
            readResilience(fields, into: &upstream, context: context)
            return upstream
        }

        /// Balancing, health, the breaker, retries and timeouts of an upstream.
        func readResilience(_ fields: [String: ConfigNode], into upstream: inout UpstreamConfig, context: String) {
            if let node = fields["balance"], let text = node.string(context: "balance") {
                if let strategy = BalanceStrategy(rawValue: text) {
                    upstream.balance = strategy
                } else {
                    let known = BalanceStrategy.allCases.map(\.rawValue).joined(separator: ", ")
                    node.report("unknown balance '\(text)' (known: \(known))")
                }
            }
            if let node = fields["hash-on"], let text = node.string(context: "hash-on") {
                if let key = HashKey(parsing: text) {
                    upstream.hashOn = key
                } else {
                    node.report("hash-on must be header:NAME, cookie:NAME, ip, consumer or path, found '\(text)'")
                }
            }
            if upstream.balance == .consistentHash, upstream.hashOn == nil, fields["hash-on"] == nil {
                (fields["balance"] ?? fields["targets"])?.report("\(context): consistent-hash needs hash-on")
            }
            if let node = fields["health"],
                let health = node.fields(allowed: ["active", "passive"], context: "\(context) health")
            {
                if let active = health["active"] { upstream.activeHealth = readActiveHealth(active) }
                if let passive = health["passive"] { upstream.passiveHealth = readPassiveHealth(passive) }
            }
            if let node = fields["circuit-breaker"] { upstream.circuitBreaker = readCircuitBreaker(node) }
            if let node = fields["tls"] { upstream.tls = readUpstreamTLS(node, upstream: upstream, context: context) }
            if let node = fields["retries"] { upstream.retries = readRetries(node) ?? upstream.retries }
            if let node = fields["timeouts"],
                let timeouts = node.fields(allowed: ["connect", "try", "total"], context: "\(context) timeouts")
            {
                if let value = timeouts["connect"]?.duration(context: "timeouts.connect") {
                    upstream.connectTimeout = value
                }
                if let value = timeouts["try"]?.duration(context: "timeouts.try") { upstream.timeout = value }
                if let value = timeouts["total"]?.duration(context: "timeouts.total") { upstream.totalTimeout = value }
            }
        }

        func readDNS(_ node: ConfigNode, context: String) -> DNSTargetsConfig? {
            let keys: Set<String> = ["name", "port", "interval", "scheme", "family", "weight"]
            guard let fields = node.fields(allowed: keys, context: "\(context) dns") else { return nil }
            guard let name = fields["name"]?.nonEmptyString(context: "dns.name") else {
                if fields["name"] == nil { node.report("\(context) dns needs a name") }
                return nil
            }
            guard let port = fields["port"]?.int(context: "dns.port", range: 1...65535) else {
                if fields["port"] == nil { node.report("\(context) dns needs a port") }
                return nil
            }
            var dns = DNSTargetsConfig(name: name, port: port)
            if let value = fields["interval"]?.duration(context: "dns.interval") { dns.interval = value }
            if let node = fields["scheme"], let scheme = node.string(context: "dns.scheme") {
                if scheme == "http" || scheme == "https" {
                    dns.scheme = scheme
                } else {
                    node.report("dns.scheme must be http or https")
                }
            }
            if let node = fields["family"], let text = node.string(context: "dns.family") {
                if let family = DNSTargetsConfig.Family(rawValue: text) {
                    dns.family = family
                } else {
                    node.report("dns.family must be any, ipv4 or ipv6, found '\(text)'")
                }
            }
            if let value = fields["weight"]?.int(context: "dns.weight", range: 0...10_000) { dns.weight = value }
            return dns
        }

        func readVersioning(_ node: ConfigNode, context: String) -> VersioningConfig? {
            guard let fields = node.fields(allowed: ["by", "name"], context: "\(context) versioning") else {
                return nil
            }
            var versioning = VersioningConfig()
            if let byNode = fields["by"], let text = byNode.string(context: "versioning.by") {
                guard let source = VersioningConfig.Source(rawValue: text) else {
                    let known = VersioningConfig.Source.allCases.map(\.rawValue).joined(separator: ", ")
                    byNode.report("unknown versioning '\(text)' (known: \(known))")
                    return nil
                }
                versioning.by = source
            }
            versioning.name = fields["name"]?.nonEmptyString(context: "versioning.name")
            if let name = versioning.name, versioning.by == .header, !HTTPMethodName.isToken(name) {
                fields["name"]?.report("'\(name)' is not a valid header name")
            }
            return versioning
        }

        func readLifecycle(_ fields: [String: ConfigNode], context: String) -> LifecycleConfig {
            var lifecycle = LifecycleConfig()
            if let node = fields["deprecated"], let text = node.string(context: "deprecated") {
                switch text.lowercased() {
                case "true", "yes": lifecycle.deprecated = .distantPast
                case "false", "no": break
                default:
                    lifecycle.deprecated = LifecycleConfig.parseDate(text)
                    if lifecycle.deprecated == nil {
                        node.report("deprecated must be true or a date like 2026-12-01, found '\(text)'")
                    }
                }
            }
            if let node = fields["sunset"], let text = node.string(context: "sunset") {
                lifecycle.sunset = LifecycleConfig.parseDate(text)
                if lifecycle.sunset == nil { node.report("sunset must be a date like 2027-06-30, found '\(text)'") }
            }
            lifecycle.successor = fields["successor"]?.nonEmptyString(context: "successor")
            lifecycle.docs = fields["deprecation-docs"]?.nonEmptyString(context: "deprecation-docs")
            if let value = fields["serve-after-sunset"]?.bool(context: "serve-after-sunset") {
                lifecycle.serveAfterSunset = value
            }
            return lifecycle
        }

        func readSplit(_ node: ConfigNode, fields: [String: ConfigNode], context: String) -> SplitConfig? {
            var sides: [SplitSide] = []
            for item in node.sequence(context: "\(context) split") ?? [] {
                guard let side = item.fields(allowed: ["upstream", "weight"], context: "a split side"),
                    let upstream = side["upstream"]?.nonEmptyString(context: "split upstream")
                else {
                    if case .mapping = item.node, item.node.value(forKey: "upstream") == nil {
                        item.report("a split side needs an upstream")
                    }
                    continue
                }
                let weight = side["weight"]?.int(context: "split weight", range: 0...1_000_000) ?? 1
                sides.append(SplitSide(upstream: upstream, weight: weight))
            }
            guard !sides.isEmpty else {
                node.report("\(context) split needs at least one side")
                return nil
            }
            if sides.allSatisfy({ $0.weight == 0 }) {
                node.report("\(context) split has no side with a weight above 0")
            }
            var split = SplitConfig(sides: sides)
            if let stickyNode = fields["sticky"], let text = stickyNode.string(context: "sticky") {
                if let key = HashKey(parsing: text), key != .path {
                    split.sticky = key
                } else {
                    stickyNode.report("sticky must be ip, consumer, header:NAME or cookie:NAME, found '\(text)'")
                }
            }
            if let forceNode = fields["force-header"], let name = forceNode.nonEmptyString(context: "force-header") {
                if HTTPMethodName.isToken(name) {
                    split.forceHeader = name
                } else {
                    forceNode.report("'\(name)' is not a valid header name")
                }
            }
            return split
        }

        func readActiveHealth(_ node: ConfigNode) -> ActiveHealthConfig? {
            let keys: Set<String> = ["path", "interval", "timeout", "healthy", "unhealthy", "statuses"]
            guard let fields = node.fields(allowed: keys, context: "health.active") else { return nil }
            var active = ActiveHealthConfig()
            if let node = fields["path"], let path = node.string(context: "health.active.path") {
                if path.hasPrefix("/") {
                    active.path = path
                } else {
                    node.report("health.active.path must start with '/'")
                }
            }
            if let value = fields["interval"]?.duration(context: "health.active.interval") { active.interval = value }
            if let value = fields["timeout"]?.duration(context: "health.active.timeout") { active.timeout = value }
            if let value = fields["healthy"]?.int(context: "health.active.healthy", range: 1...100) {
                active.healthy = value
            }
            if let value = fields["unhealthy"]?.int(context: "health.active.unhealthy", range: 1...100) {
                active.unhealthy = value
            }
            if let items = fields["statuses"]?.sequence(context: "health.active.statuses") {
                active.statuses = items.compactMap { $0.int(context: "a status", range: 100...599) }
            }
            return active
        }

        func readPassiveHealth(_ node: ConfigNode) -> PassiveHealthConfig? {
            guard let fields = node.fields(allowed: ["consecutive-failures", "ejection"], context: "health.passive")
            else {
                return nil
            }
            var passive = PassiveHealthConfig()
            if let value = fields["consecutive-failures"]?.int(
                context: "health.passive.consecutive-failures", range: 1...1000)
            {
                passive.consecutiveFailures = value
            }
            if let value = fields["ejection"]?.duration(context: "health.passive.ejection") { passive.ejection = value }
            return passive
        }

        func readCircuitBreaker(_ node: ConfigNode) -> CircuitBreakerConfig? {
            let keys: Set<String> = [
                "failure-rate", "window", "min-calls", "slow-call", "open-for", "half-open-calls", "fallback",
            ]
            guard let fields = node.fields(allowed: keys, context: "circuit-breaker") else { return nil }
            var breaker = CircuitBreakerConfig()
            if let value = fields["failure-rate"]?.fraction(context: "circuit-breaker.failure-rate") {
                breaker.failureRate = value
            }
            if let value = fields["window"]?.int(context: "circuit-breaker.window", range: 1...10_000) {
                breaker.window = value
            }
            if let value = fields["min-calls"]?.int(context: "circuit-breaker.min-calls", range: 1...10_000) {
                breaker.minCalls = value
            }
            if let value = fields["slow-call"]?.duration(context: "circuit-breaker.slow-call") {
                breaker.slowCall = value
            }
            if let value = fields["open-for"]?.duration(context: "circuit-breaker.open-for") { breaker.openFor = value }
            if let value = fields["half-open-calls"]?.int(context: "circuit-breaker.half-open-calls", range: 1...1000) {
                breaker.halfOpenCalls = value
            }
            if let node = fields["fallback"],
                let fallback = node.fields(
                    allowed: ["status", "content-type", "body"], context: "circuit-breaker.fallback")
            {
                let status = fallback["status"]?.int(context: "fallback.status", range: 100...599) ?? 503
                let body = fallback["body"]?.string(context: "fallback.body") ?? ""
                breaker.fallback = MockResponse(
                    status: status, contentType: fallback["content-type"]?.string(context: "fallback.content-type"),
                    body: Array(body.utf8))
            }
            if breaker.minCalls > breaker.window {
                (fields["min-calls"] ?? node).report(
                    "circuit-breaker.min-calls cannot exceed window (\(breaker.window))")
            }
            return breaker
        }

        func readRetries(_ node: ConfigNode) -> RetryConfig? {
            guard let fields = node.fields(allowed: ["attempts", "on", "budget", "backoff"], context: "retries") else {
                return nil
            }
            var retries = RetryConfig()
            if let value = fields["attempts"]?.int(context: "retries.attempts", range: 0...10) {
                retries.attempts = value
            }
            if let node = fields["on"], let items = node.sequence(context: "retries.on") {
                var conditions: Set<RetryConfig.Condition> = []
                for item in items {
                    guard let text = item.string(context: "a retry condition") else { continue }
                    if let condition = RetryConfig.Condition(parsing: text) {
                        conditions.insert(condition)
                    } else {
                        item.report(
                            "unknown retry condition '\(text)' (known: connect-failure, reset, timeout, or a 5xx status)"
                        )
                    }
                }
                retries.on = conditions
            }
            if let value = fields["budget"]?.fraction(context: "retries.budget") { retries.budget = value }
            if let value = fields["backoff"]?.duration(context: "retries.backoff") { retries.backoff = value }
            return retries
        }

        func readAPI(
            _ node: ConfigNode, index: Int, document: ImportedDocument?, hash: inout ContentHash,
            config: inout GatewayConfig
        ) -> APIConfig? {
            guard let fields = node.fields(allowed: ConfigLoader.apiKeys, context: "apis[\(index)]") else { return nil }
            guard let name = fields["name"]?.nonEmptyString(context: "name") else {
                if fields["name"] == nil { node.report("apis[\(index)] needs a name") }
                return nil
            }
            let context = "API '\(name)'"
            let split = fields["split"].flatMap { readSplit($0, fields: fields, context: context) }
            let hasEndpoints = fields["endpoints"] != nil
            guard
                let upstream = fields["upstream"]?.nonEmptyString(context: "\(context) upstream") ?? split?.sides.first?
                    .upstream
                    ?? (hasEndpoints && fields["upstream"] == nil ? "" : nil)
            else {
                if fields["upstream"] == nil && fields["split"] == nil {
                    node.report("\(context) needs an upstream or a split")
                }
                return nil
            }
            if fields["upstream"] != nil && fields["split"] != nil {
                fields["split"]?.report("\(context) has both upstream and split; a split names its upstreams itself")
            }
            var api = APIConfig(name: name, upstream: upstream)
            api.split = split
            api.version = fields["version"]?.nonEmptyString(context: "\(context) version")
            if let node = fields["versioning"] {
                api.versioning = readVersioning(node, context: context) ?? api.versioning
            }
            if let value = fields["default"]?.bool(context: "\(context) default") { api.isDefaultVersion = value }
            api.lifecycle = readLifecycle(fields, context: context)
            if api.versioning.by != .path, api.version == nil {
                (fields["versioning"] ?? node).report(
                    "\(context) is versioned by \(api.versioning.by.rawValue) but has no version")
            }
            if let baseNode = fields["base-path"], let base = baseNode.string(context: "base-path") {
                guard let normalized = PathTemplate.normalizePrefix(base) else {
                    baseNode.report("base-path must start with '/' and hold no '{', '?' or '#', found '\(base)'")
                    return nil
                }
                api.basePath = normalized
            }
            api.host = fields["host"]?.nonEmptyString(context: "\(context) host")?.lowercased()
            if let value = fields["strip-base-path"]?.bool(context: "strip-base-path") { api.stripBasePath = value }
            api.policies = readPolicies(fields, prefix: "", context: context)

            if let routesNode = fields["routes"] {
                for routeNode in routesNode.sequence(context: "\(context) routes") ?? [] {
                    if let route = readRoute(routeNode, api: name) { api.routes.append(route) }
                }
            }
            if upstream.isEmpty, let routesNode = fields["routes"] ?? fields["openapi"] {
                routesNode.report(
                    "\(context) has routes but no upstream for them; give the API an upstream (endpoints name their own)"
                )
            }
            if let specNode = fields["openapi"], let specPath = specNode.nonEmptyString(context: "openapi") {
                let absolute = ConfigLoader.absolute(specPath, relativeTo: folder)
                api.openAPIFile = absolute
                let imported =
                    document?.writtenAs == specPath
                    ? document! : importDocument(specNode, writtenAs: specPath, authMethods: config.auth)
                sink.append(imported.diagnostics)
                sink.appendWarnings(imported.warnings)
                hash.combine(imported.hash.hex.utf8)
                if let spec = imported.spec {
                    for file in spec.document.files where !config.sourceFiles.contains(file) {
                        config.sourceFiles.append(file)
                    }
                    api.document = spec.document
                    api.upstreamBasePath = spec.serverBasePath
                    api.policies = api.policies.overridden(by: spec.policies)
                    if fields["routes"] != nil {
                        fields["routes"]?.report(
                            "\(context) has both routes and an openapi document; the document's operations are used and routes must be left out"
                        )
                    }
                    api.routes = spec.routes
                }
            }
            if let endpointsNode = fields["endpoints"] {
                for endpointNode in endpointsNode.sequence(context: "\(context) endpoints") ?? [] {
                    if let endpoint = readEndpoint(endpointNode, api: name) { api.routes.append(endpoint) }
                }
            }
            compileContracts(&api, at: fields["openapi"] ?? node, fields: fields, context: context)
            return api
        }

        /// Compiles the OpenAPI contract of every route that validates requests or responses;
        /// parts that cannot be checked (a bad pattern) are warned about at the `openapi:` line.
        func compileContracts(
            _ api: inout APIConfig, at node: ConfigNode, fields: [String: ConfigNode], context: String
        ) {
            guard let document = api.document else {
                let modes = [
                    ("validate", api.policies.validate), ("validate-responses", api.policies.validateResponses),
                ]
                for (key, mode) in modes where (mode ?? .off) != .off {
                    fields[key]?.report("\(context) sets \(key) but has no openapi document to validate against")
                }
                return
            }
            let compiler = SchemaCompiler(document: document)
            for index in api.routes.indices {
                let route = api.routes[index]
                guard let path = route.openAPIPath, let method = route.methods.first else { continue }
                let policies = api.policies.overridden(by: route.policies)
                let requests = policies.validate ?? .off
                let responses = policies.validateResponses ?? .off
                guard requests != .off || responses != .off else { continue }
                let operationMethod =
                    OpenAPIImporter.methods.contains(method.lowercased()) ? method.lowercased() : method
                api.routes[index].contract = OperationContract.compile(
                    path: path, method: operationMethod, document: document, compiler: compiler)
            }
            for problem in Set(compiler.problems).sorted() { node.warn("\(context): \(problem)") }
        }

        /// One OpenAPI document read on its own, with its own diagnostics, so documents can be read in parallel.
        struct ImportedDocument: Sendable {
            var writtenAs: String
            var spec: ImportedSpec?
            var diagnostics: [ConfigDiagnostic]
            var warnings: [ConfigDiagnostic]
            var hash: ContentHash
        }

        func importDocument(
            _ specNode: ConfigNode, writtenAs specPath: String, authMethods: [AuthMethodConfig]
        ) -> ImportedDocument {
            Self.importDocument(
                DocumentJob(
                    index: 0, mark: specNode.node.mark, file: specNode.file, path: specPath, authMethods: authMethods),
                folder: folder, displayFolder: displayFolder, environment: environment)
        }

        /// What one parallel import needs: plain values only, no shared diagnostics sink.
        struct DocumentJob: Sendable {
            var index: Int
            /// Where the `openapi:` value is in the config; problems reading the file are reported there.
            var mark: Mark?
            var file: String
            var path: String
            /// The config's auth methods, onto which the document's security schemes map.
            var authMethods: [AuthMethodConfig]
        }

        static func importDocument(
            _ job: DocumentJob, folder: String, displayFolder: String, environment: EnvironmentInterpolation
        ) -> ImportedDocument {
            let key = DocumentCache.Key(
                path: ConfigLoader.absolute(job.path, relativeTo: folder), writtenAs: job.path, file: job.file,
                folder: folder,
                displayFolder: displayFolder, environment: environment.environment, authMethods: job.authMethods)
            if let cached = DocumentCache.lookup(key) { return cached }
            let document = importAfresh(job, folder: folder, displayFolder: displayFolder, environment: environment)
            DocumentCache.store(document, for: key)
            return document
        }

        private static func importAfresh(
            _ job: DocumentJob, folder: String, displayFolder: String, environment: EnvironmentInterpolation
        ) -> ImportedDocument {
            let local = DiagnosticSink()
            var localHash = ContentHash()
            let reader = Reader(sink: local, folder: folder, displayFolder: displayFolder, environment: environment)
            let reportAt = ConfigNode(
                node: .scalar(.init(job.path, .implicit, .plain, job.mark)), file: job.file, sink: local,
                environment: environment)
            let spec = OpenAPIImporter(sink: local, environment: environment, authMethods: job.authMethods)
                .importDocument(
                    path: ConfigLoader.absolute(job.path, relativeTo: folder), writtenAs: job.path,
                    displayName: reader.displayPath(job.path), reportAt: reportAt, hash: &localHash)
            return ImportedDocument(
                writtenAs: job.path, spec: spec, diagnostics: local.diagnostics, warnings: local.warnings,
                hash: localHash)
        }

        /// Reads every API's OpenAPI document on all cores; parsing and decoding them is most of a
        /// large config's load time. Problems are reported later, in file order, by `readAPI`.
        func importDocuments(of apiNodes: [ConfigNode], authMethods: [AuthMethodConfig]) -> [Int: ImportedDocument] {
            var jobs: [DocumentJob] = []
            for (index, apiNode) in apiNodes.enumerated() {
                guard let node = apiNode.node.value(forKey: "openapi"), case .scalar(let scalar) = node,
                    case .success(let path) = environment.apply(scalar.string), !path.isEmpty
                else { continue }
                jobs.append(
                    DocumentJob(index: index, mark: node.mark, file: apiNode.file, path: path, authMethods: authMethods)
                )
            }
            let work = jobs
            let (folder, displayFolder, environment) = (self.folder, self.displayFolder, self.environment)
            let results = Mutex<[Int: ImportedDocument]>([:])
            DispatchQueue.concurrentPerform(iterations: work.count) { job in
                let document = Self.importDocument(
                    work[job], folder: folder, displayFolder: displayFolder, environment: environment)
                results.withLock { $0[work[job].index] = document }
            }
            return results.withLock { $0 }
        }

        func readRoute(_ node: ConfigNode, api: String) -> RouteConfig? {
            let context = "a route of API '\(api)'"
            guard let fields = node.fields(allowed: ConfigLoader.routeKeys, context: context) else { return nil }
            guard let pathNode = fields["path"], let path = pathNode.string(context: "path") else {
                if fields["path"] == nil { node.report("\(context) needs a path") }
                return nil
            }
            if let problem = PathTemplate.problem(in: path) {
                pathNode.report("bad route path '\(path)': \(problem)")
                return nil
            }
            var route = RouteConfig(path: path, location: "\(node.file):\(node.line)")
            if let methodsNode = fields["methods"], let methods = methodsNode.stringList(context: "methods") {
                route.methods = methods.map { $0.uppercased() }
                for method in route.methods where !HTTPMethodName.isValid(method) {
                    methodsNode.report("'\(method)' is not an HTTP method")
                }
            }
            route.name = fields["name"]?.nonEmptyString(context: "name")
            route.policies = readPolicies(fields, prefix: "", context: context)
            route.lifecycle = readLifecycle(fields, context: context)
            route.split = fields["split"].flatMap { readSplit($0, fields: fields, context: context) }
            route.respond = fields["respond"].flatMap { readStaticResponse($0, context: "\(context) respond") }
            route.redirect = fields["redirect"].flatMap { readRedirect($0, context: "\(context) redirect") }
            let terminals = ["respond", "redirect", "split"].filter { fields[$0] != nil }
            if terminals.count > 1 {
                node.report("\(context) has \(terminals.joined(separator: " and ")); a route answers in one way only")
            }
            return route
        }

        /// Reads the policy keys of a mapping. In OpenAPI documents they carry the prefix `x-portico-`.
        func readPolicies(_ fields: [String: ConfigNode], prefix: String, context: String) -> PolicyConfig {
            var policies = PolicyConfig()
            if let node = fields[prefix + "request-headers"] { policies.requestHeaders = readHeaderRules(node) }
            if let node = fields[prefix + "response-headers"] { policies.responseHeaders = readHeaderRules(node) }
            if let node = fields[prefix + "max-body-size"] {
                policies.maxBodySize = node.byteSize(context: prefix + "max-body-size")
            }
            if let node = fields[prefix + "timeout"] { policies.timeout = node.duration(context: prefix + "timeout") }
            if let node = fields[prefix + "retry-safe"] {
                policies.retrySafe = node.bool(context: prefix + "retry-safe")
            }
            if let node = fields[prefix + "websocket"] { policies.websocket = node.bool(context: prefix + "websocket") }
            if let node = fields[prefix + "stream-idle-timeout"] {
                // 0 would close every tunnel at once.
                policies.streamIdleTimeout = node.duration(context: prefix + "stream-idle-timeout", atLeast: "1s")
            }
            if let node = fields[prefix + "validate"] {
                policies.validate = node.choice(ValidationMode.self, context: prefix + "validate")
            }
            if let node = fields[prefix + "validate-responses"],
                let mode = node.choice(ValidationMode.self, context: prefix + "validate-responses")
            {
                if mode == .enforce {
                    node.report(
                        "\(prefix)validate-responses is report or off: a response already sent upstream cannot be refused"
                    )
                } else {
                    policies.validateResponses = mode
                }
            }
            if let node = fields[prefix + "auth"] {
                policies.auth = readAuthRequirement(node, context: "\(context) \(prefix)auth")
            }
            if let node = fields[prefix + "allow-groups"] {
                policies.allowGroups = node.stringList(context: prefix + "allow-groups")
            }
            if let node = fields[prefix + "deny-groups"] {
                policies.denyGroups = node.stringList(context: prefix + "deny-groups")
            }
            if let node = fields[prefix + "scopes"] { policies.scopes = node.stringList(context: prefix + "scopes") }
            if let node = fields[prefix + "forward-credential"] {
                policies.forwardCredential = node.bool(context: prefix + "forward-credential")
            }
            if let node = fields[prefix + "anonymous"] {
                policies.anonymous = node.nonEmptyString(context: prefix + "anonymous")
            }
            if let node = fields[prefix + "rate-limit"] {
                policies.rateLimits = readRateLimits(node, context: "\(context) \(prefix)rate-limit")
            }
            if let node = fields[prefix + "cost"] {
                policies.cost = node.int(context: prefix + "cost", range: 1...1_000_000)
            }
            if let node = fields[prefix + "cache"] {
                policies.cache = readCachePolicy(node, context: "\(context) \(prefix)cache")
            }
            if let node = fields[prefix + "cors"] {
                policies.cors = readCORS(node, context: "\(context) \(prefix)cors")
            }
            if let node = fields[prefix + "ip"] {
                policies.ipRules = readIPRules(node, context: "\(context) \(prefix)ip")
            }
            if let node = fields[prefix + "compress"] {
                policies.compress = readCompress(node, context: "\(context) \(prefix)compress")
            }
            if let node = fields[prefix + "request-transform"] {
                policies.requestTransform = readTransform(
                    node, request: true, context: "\(context) \(prefix)request-transform")
            }
            if let node = fields[prefix + "mirror"] {
                policies.mirror = readMirror(node, context: "\(context) \(prefix)mirror")
            }
            if let node = fields[prefix + "response-transform"] {
                policies.responseTransform = readTransform(
                    node, request: false, context: "\(context) \(prefix)response-transform")
            }
            return policies
        }

        func readHeaderRules(_ node: ConfigNode) -> HeaderRules? {
            guard let fields = node.fields(allowed: ["set", "add", "remove"], context: "header rules") else {
                return nil
            }
            var rules = HeaderRules()
            rules.set = fields["set"].map(readHeaderPairs) ?? []
            rules.add = fields["add"].map(readHeaderPairs) ?? []
            rules.remove = fields["remove"]?.stringList(context: "remove") ?? []
            for name in rules.remove where !HTTPMethodName.isToken(name) {
                fields["remove"]?.report("'\(name)' is not a valid header name")
            }
            return rules
        }

        func readHeaderPairs(_ node: ConfigNode) -> [HeaderPair] {
            var pairs: [HeaderPair] = []
            for entry in node.mapping(allowed: nil, context: "headers") ?? [] {
                guard HTTPMethodName.isToken(entry.key) else {
                    entry.keyNode.report("'\(entry.key)' is not a valid header name")
                    continue
                }
                if let value = entry.value.string(context: "header \(entry.key)") {
                    pairs.append(HeaderPair(name: entry.key, value: value))
                }
            }
            return pairs
        }

        /// Two routes that would answer the same host, method and path are a mistake; say where both are.
        func checkRouteConflicts(_ apis: [APIConfig], root: ConfigNode) {
            var seen: [String: String] = [:]
            for api in apis {
                let routes = api.servedRoutes
                for route in routes {
                    let template = PathTemplate.join(api.basePath, route.path)
                    let shape = PathTemplate.shape(of: template)
                    // Versions named by header, query or media type share paths; they differ by version.
                    let version = api.versioning.by == .path ? "" : " @\(api.version ?? "")"
                    for method in route.methods.isEmpty ? ["*"] : route.methods {
                        let key = "\(api.host ?? "*") \(method) \(shape)\(version)"
                        if let first = seen[key] {
                            root.report(
                                "route \(method) \(template) of API '\(api.name)' is already defined by \(first)")
                        } else {
                            seen[key] = "API '\(api.name)'" + (route.location.isEmpty ? "" : " at \(route.location)")
                        }
                    }
                }
            }
        }

        /// APIs that share a name and base path must agree on how the version is named, and have at most one default.
        func checkVersions(_ apis: [APIConfig], root: ConfigNode) {
            let groups = Dictionary(grouping: apis.filter { $0.versioning.by != .path }) {
                "\($0.host ?? "*") \($0.basePath)"
            }
            for (_, group) in groups where group.count > 1 || group.contains(where: \.isDefaultVersion) {
                if Set(group.map(\.versioning)).count > 1 {
                    root.report(
                        "APIs under \(group[0].basePath) name their version in different ways; use one versioning for all"
                    )
                }
                if group.filter(\.isDefaultVersion).count > 1 {
                    root.report("APIs under \(group[0].basePath) have more than one default version")
                }
            }
            let versions = Set(apis.compactMap { api in api.version.map { "\(api.name)@\($0)" } })
            for api in apis {
                if let successor = api.lifecycle.successor, !versions.contains("\(api.name)@\(successor)") {
                    root.report("API '\(api.name)' names successor version '\(successor)', which is not defined")
                }
            }
        }

        /// A path from the config as it should appear in messages: relative to where the operator ran from.
        func displayPath(_ written: String) -> String {
            written.hasPrefix("/") || displayFolder.isEmpty
                ? written : (displayFolder as NSString).appendingPathComponent(written)
        }
    }
}
