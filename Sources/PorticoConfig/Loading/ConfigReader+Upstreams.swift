import Foundation
import Synchronization
import Yams

/// `upstreams`: targets, DNS discovery, health, breaker, retries and timeouts.
extension ConfigLoader.Reader {
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
        if let key = fields["hash-on"]?.parsed(HashKey.self, context: "hash-on") { upstream.hashOn = key }
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
                if let condition = item.parsed(RetryConfig.Condition.self, context: "a retry condition") {
                    conditions.insert(condition)
                }
            }
            retries.on = conditions
        }
        if let value = fields["budget"]?.fraction(context: "retries.budget") { retries.budget = value }
        if let value = fields["backoff"]?.duration(context: "retries.backoff") { retries.backoff = value }
        return retries
    }
}
