/// The shared response cache: the `cache` root section.
package struct CacheSettings: Sendable, Hashable {
    /// The byte budget for every cached response together (bodies, headers and bookkeeping).
    package var memory: Int

    package init(memory: Int = 64 * 1024 * 1024) {
        self.memory = memory
    }
}

/// `cache:` on an API or a route: `cache: true` for the defaults, `cache: false` to turn an API's cache off.
package struct CachePolicyConfig: Sendable, Hashable {
    /// Whether responses of these routes are cached at all.
    package var enabled: Bool
    /// The freshness given to storable responses that carry none (no max-age, s-maxage or Expires).
    /// Zero leaves them to the heuristic (10% of the time since `Last-Modified`).
    package var defaultTTL: ConfigDuration
    /// Responses larger than this are streamed through and not stored.
    package var maxObjectSize: Int
    /// Request headers the cache varies on even when the upstream's `Vary` does not name them.
    package var varyOn: [String]
    /// The response header whose space- or comma-separated values tag an entry for purging.
    package var tagHeader: String?
    /// Extra parts of the cache key, read as rate-limit keys are: `consumer`, `key`, `ip`, `header:NAME`.
    package var key: [LimitKeyPart]
    /// The status codes that may be stored, when the route lists them. Without a list, RFC 9111's
    /// rule: any status with explicit freshness, and the heuristically cacheable ones
    /// (`heuristicStatuses`) on the default TTL or the heuristic.
    package var statuses: Set<Int>?

    /// The status codes RFC 9110 §15.1 calls heuristically cacheable, less 206 (a partial answer
    /// is never stored whole; ranges are cut from stored complete responses).
    package static let heuristicStatuses: Set<Int> = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]

    package init(
        enabled: Bool = true,
        defaultTTL: ConfigDuration = .seconds(0),
        maxObjectSize: Int = 8 * 1024 * 1024,
        varyOn: [String] = [],
        tagHeader: String? = nil,
        key: [LimitKeyPart] = [],
        statuses: Set<Int>? = nil
    ) {
        self.enabled = enabled
        self.defaultTTL = defaultTTL
        self.maxObjectSize = maxObjectSize
        self.varyOn = varyOn
        self.tagHeader = tagHeader
        self.key = key
        self.statuses = statuses
    }
}
