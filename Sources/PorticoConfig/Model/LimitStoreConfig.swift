import PorticoRedis

/// `limits.store: redis://…` and its connection settings: the Redis server a cluster's nodes
/// share limit counters through.
public struct LimitStoreConfig: Sendable, Hashable {
    /// `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS.
    public var url: RedisURL
    /// How long one decision may wait for Redis before the limit's `on-store-failure` applies.
    public var timeout = ConfigDuration(milliseconds: 250)
    /// Connections per event loop; commands are pipelined on each.
    public var connections = 1
    /// For `rediss://`: a CA bundle (PEM) to trust instead of the system's.
    public var ca: String?
    /// Where the counters' keys start in Redis.
    public var prefix = "portico:rl:"

    public init(url: RedisURL) {
        self.url = url
    }
}
