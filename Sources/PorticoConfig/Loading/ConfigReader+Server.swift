import Foundation
import Synchronization
import Yams

/// The top-level sections `admin`, `store` and `server`, and listen addresses.
extension ConfigLoader.Reader {
    func readAddress(_ node: ConfigNode, context: String) -> ListenAddress? {
        node.parsed(ListenAddress.self, context: context)
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
                node.report(CIDRBlock.problem(proxy, context: "server.trusted-proxies"))
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
}
