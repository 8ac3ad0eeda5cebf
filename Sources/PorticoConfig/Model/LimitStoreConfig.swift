import PorticoRedis

/// `limits.store: redis://…` and its connection settings: the Redis server a cluster's nodes
/// share limit counters through.
package struct LimitStoreConfig: Sendable, Hashable {
    /// `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS.
    package var url: RedisURL
    /// How long one decision may wait for Redis before the limit's `on-store-failure` applies.
    package var timeout = ConfigDuration(milliseconds: 250)
    /// Connections per event loop; commands are pipelined on each.
    package var connections = 1
    /// For `rediss://`: a CA bundle (PEM) to trust instead of the system's.
    package var ca: String?
    /// Where the counters' keys start in Redis.
    package var prefix = "portico:rl:"

    package init(url: RedisURL) {
        self.url = url
    }
}
