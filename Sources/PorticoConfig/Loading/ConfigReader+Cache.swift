extension ConfigLoader.Reader {
    static let cacheKeys: Set<String> = ["default-ttl", "max-object-size", "vary-on", "tag-header", "key", "statuses"]

    /// The `cache` root section: `cache: {memory: 256MiB}`.
    func readCacheSettings(_ node: ConfigNode) -> CacheSettings {
        var settings = CacheSettings()
        guard let fields = node.fields(allowed: ["memory"], context: "cache") else { return settings }
        if let memory = fields["memory"]?.byteSize(context: "cache.memory") {
            if memory < 64 * 1024 {
                fields["memory"]?.report("cache.memory must be at least 64KiB, found \(memory) bytes")
            } else {
                settings.memory = memory
            }
        }
        return settings
    }

    /// `cache:` on an API or route: `true`, `false`, or a mapping of settings.
    func readCachePolicy(_ node: ConfigNode, context: String) -> CachePolicyConfig? {
        if case .scalar = node.node {
            return node.bool(context: context).map { CachePolicyConfig(enabled: $0) }
        }
        guard let fields = node.fields(allowed: Self.cacheKeys, context: context) else { return nil }
        var cache = CachePolicyConfig()
        if let ttl = fields["default-ttl"]?.duration(context: "\(context) default-ttl") { cache.defaultTTL = ttl }
        if let size = fields["max-object-size"]?.byteSize(context: "\(context) max-object-size") {
            cache.maxObjectSize = size
        }
        if let varyNode = fields["vary-on"], let names = varyNode.stringList(context: "\(context) vary-on") {
            for name in names where !HTTPMethodName.isToken(name) {
                varyNode.report("\(context) vary-on: '\(name)' is not a valid header name")
            }
            cache.varyOn = names.filter(HTTPMethodName.isToken)
        }
        if let tagNode = fields["tag-header"], let name = tagNode.nonEmptyString(context: "\(context) tag-header") {
            if HTTPMethodName.isToken(name) {
                cache.tagHeader = name
            } else {
                tagNode.report("\(context) tag-header: '\(name)' is not a valid header name")
            }
        }
        if let keyNode = fields["key"], let parts = readKeyParts(keyNode, context: "\(context) key") {
            cache.key = parts
        }
        if let statusNode = fields["statuses"], let items = statusNode.sequence(context: "\(context) statuses") {
            let codes = items.compactMap { $0.int(context: "each item of \(context) statuses", range: 200...599) }
            if codes.contains(206) {
                statusNode.report(
                    "\(context) statuses: 206 cannot be stored (ranges are cut from stored complete responses)")
            }
            cache.statuses = Set(codes.filter { $0 != 206 })
        }
        return cache
    }

    /// A list of key parts (`consumer`, `key`, `ip`, `route`, `api`, `header:NAME`), as rate limits' `by` and the cache's `key` take.
    func readKeyParts(_ node: ConfigNode, context: String) -> [LimitKeyPart]? {
        guard let read = node.parsedList(LimitKeyPart.self, context: context) else { return nil }
        let parts = read.filter { part in
            guard case .header(let name) = part, !HTTPMethodName.isToken(name) else { return true }
            node.report("\(context): '\(name)' is not a valid header name")
            return false
        }
        return parts.isEmpty ? nil : parts
    }
}
