import Foundation
import PorticoRedis

extension ConfigLoader.Reader {
    static let limitKeys: Set<String> = ["name", "rate", "burst", "quota", "algorithm", "by", "on-store-failure"]

    /// The `plans` root section: `free: {rate: 10/s, burst: 20, quota: 10000/month}`.
    func readPlans(_ node: ConfigNode) -> [String: PlanConfig] {
        var plans: [String: PlanConfig] = [:]
        for entry in node.mapping(allowed: nil, context: "plans") ?? [] {
            let context = "plan '\(entry.key)'"
            guard
                let fields = entry.value.fields(
                    allowed: ["rate", "burst", "quota", "algorithm", "on-store-failure"], context: context)
            else {
                continue
            }
            var plan = PlanConfig(name: entry.key)
            plan.rate = fields["rate"].flatMap { $0.parsed(RateSpec.self, context: context) }
            plan.burst = fields["burst"]?.int(context: "\(context) burst", range: 1...100_000_000)
            plan.quota = fields["quota"].flatMap { $0.parsed(QuotaSpec.self, context: context) }
            if let algorithm = fields["algorithm"].flatMap({ readAlgorithm($0, context: context) }) {
                plan.algorithm = algorithm
            }
            plan.onStoreFailure = fields["on-store-failure"]?.choice(
                StoreFailureMode.self, context: "\(context) on-store-failure")
            checkSliding(plan.limit, node: entry.value, context: context)
            if plan.rate == nil, plan.quota == nil, fields["rate"] == nil, fields["quota"] == nil {
                entry.value.report("\(context) needs a rate (like 10/s) or a quota (like 10000/month)")
            }
            if plan.burst != nil, plan.rate == nil, fields["rate"] == nil {
                fields["burst"]?.report("\(context): burst needs a rate")
            }
            plans[entry.key] = plan
        }
        return plans
    }

    /// The `limits` root section.
    func readLimitsSettings(_ node: ConfigNode) -> LimitsSettings {
        var settings = LimitsSettings()
        let keys: Set<String> = [
            "time-zone", "legacy-headers", "trusted-proxies", "max-keys", "store", "on-store-failure",
        ]
        guard let fields = node.fields(allowed: keys, context: "limits") else { return settings }
        if let zoneNode = fields["time-zone"], let zone = zoneNode.nonEmptyString(context: "limits.time-zone") {
            if TimeZone(identifier: zone) == nil {
                zoneNode.report(
                    "limits.time-zone: unknown time zone '\(zone)' (write an IANA name like UTC or Europe/Berlin)")
            } else {
                settings.timeZone = zone
            }
        }
        if let value = fields["legacy-headers"]?.bool(context: "limits.legacy-headers") {
            settings.legacyHeaders = value
        }
        if let proxiesNode = fields["trusted-proxies"],
            let proxies = proxiesNode.stringList(context: "limits.trusted-proxies")
        {
            for proxy in proxies where CIDRBlock(parsing: proxy) == nil {
                proxiesNode.report(CIDRBlock.problem(proxy, context: "limits.trusted-proxies"))
            }
            settings.trustedProxies = proxies
        }
        if let value = fields["max-keys"]?.int(context: "limits.max-keys", range: 1_000...100_000_000) {
            settings.maxKeys = value
        }
        if let storeNode = fields["store"] { settings.store = readLimitStore(storeNode) }
        if let mode = fields["on-store-failure"]?.choice(StoreFailureMode.self, context: "limits.on-store-failure") {
            settings.onStoreFailure = mode
        }
        return settings
    }

    /// `limits.store`: `memory` (the default), a Redis URL, or `{url, timeout, connections, ca, prefix}`.
    private func readLimitStore(_ node: ConfigNode) -> LimitStoreConfig? {
        let context = "limits.store"
        var urlNode = node
        var fields: [String: ConfigNode] = [:]
        if case .mapping = node.node {
            guard let read = node.fields(allowed: ["url", "timeout", "connections", "ca", "prefix"], context: context)
            else { return nil }
            guard let url = read["url"] else {
                node.report("\(context) needs a url (like redis://127.0.0.1:6379/0)")
                return nil
            }
            fields = read
            urlNode = url
        }
        guard let text = urlNode.nonEmptyString(context: context) else { return nil }
        if text == "memory", fields.isEmpty { return nil }
        let url: RedisURL
        do {
            url = try RedisURL(parsing: text)
        } catch {
            urlNode.report("\(context): \(error) (write it like redis://:password@host:6379/0, or memory)")
            return nil
        }
        var store = LimitStoreConfig(url: url)
        if let timeout = fields["timeout"]?.duration(context: "\(context).timeout", atLeast: "1ms") {
            if timeout > .seconds(60) {
                fields["timeout"]?.report("\(context).timeout must be at most 60s")
            } else {
                store.timeout = timeout
            }
        }
        if let count = fields["connections"]?.int(context: "\(context).connections", range: 1...16) {
            store.connections = count
        }
        if let caNode = fields["ca"], let ca = caNode.nonEmptyString(context: "\(context).ca") {
            if !url.tls { caNode.report("\(context).ca needs a rediss:// url (TLS)") }
            let path = ConfigLoader.absolute(ca, relativeTo: folder)
            if !FileManager.default.isReadableFile(atPath: path) {
                caNode.report("\(context).ca: cannot read file '\(ca)'")
            }
            store.ca = path
        }
        if let prefix = fields["prefix"]?.nonEmptyString(context: "\(context).prefix") {
            if prefix.utf8.count > 64 {
                fields["prefix"]?.report("\(context).prefix must be at most 64 bytes")
            } else {
                store.prefix = prefix
            }
        }
        return store
    }

    /// A sliding window's limit × window must stay within `LimitConfig.maximumSlidingProduct`.
    private func checkSliding(_ limit: LimitConfig, node: ConfigNode, context: String) {
        guard limit.algorithm == .slidingWindow, let rate = limit.rate else { return }
        let count = limit.burst ?? rate.count
        if !LimitConfig.slidingWindowFits(limit: count, period: rate.period) {
            node.report(
                "\(context): a sliding window of \(count) per \(rate.period)s is too large (its limit × window in ms must be at most 2^52; use gcra)"
            )
        }
    }

    /// `rate-limit:` on an API or route: one limit, or a list of them.
    func readRateLimits(_ node: ConfigNode, context: String) -> [LimitConfig]? {
        let items: [ConfigNode]
        if case .sequence = node.node { items = node.sequence(context: context) ?? [] } else { items = [node] }
        var limits: [LimitConfig] = []
        for item in items {
            guard let fields = item.fields(allowed: Self.limitKeys, context: context) else { return nil }
            var limit = LimitConfig()
            limit.name = fields["name"]?.nonEmptyString(context: "\(context) name")
            limit.rate = fields["rate"].flatMap { $0.parsed(RateSpec.self, context: context) }
            limit.burst = fields["burst"]?.int(context: "\(context) burst", range: 1...100_000_000)
            limit.quota = fields["quota"].flatMap { $0.parsed(QuotaSpec.self, context: context) }
            if let algorithm = fields["algorithm"].flatMap({ readAlgorithm($0, context: context) }) {
                limit.algorithm = algorithm
            }
            limit.onStoreFailure = fields["on-store-failure"]?.choice(
                StoreFailureMode.self, context: "\(context) on-store-failure")
            checkSliding(limit, node: item, context: context)
            if let byNode = fields["by"] {
                guard let keys = readKeyParts(byNode, context: "\(context) by") else { return nil }
                limit.by = keys
            }
            if limit.rate == nil, limit.quota == nil {
                if fields["rate"] == nil, fields["quota"] == nil {
                    item.report("\(context) needs a rate (like 5/s) or a quota (like 1000/day)")
                }
                return nil
            }
            limits.append(limit)
        }
        return limits
    }

    private func readAlgorithm(_ node: ConfigNode, context: String) -> LimitConfig.Algorithm? {
        guard let text = node.string(context: "\(context) algorithm") else { return nil }
        guard let algorithm = LimitConfig.Algorithm(rawValue: text) else {
            node.report("\(context): unknown algorithm '\(text)' (known: gcra, sliding-window)")
            return nil
        }
        return algorithm
    }

    /// Every plan a consumer names must exist.
    func checkPlans(_ config: GatewayConfig, root: ConfigNode) {
        for consumer in config.consumers {
            if let plan = consumer.plan, config.plans[plan] == nil, !config.plans.isEmpty {
                root.report(
                    "consumer '\(consumer.name)' is on plan '\(plan)', which is not defined in plans (defined: \(config.plans.keys.sorted().joined(separator: ", ")))"
                )
            }
        }
    }
}
