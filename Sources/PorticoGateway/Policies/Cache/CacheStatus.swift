/// What the cache did with one request: the `Cache-Status` header (RFC 9211) and the call log's `cache` field.
package struct CacheStatus: Sendable, Equatable {
    /// The call log's short form.
    package enum Outcome: String, Sendable {
        /// Served from the cache, fresh.
        case hit
        /// Served from the cache, stale (max-stale, stale-while-revalidate, stale-if-error).
        case stale
        /// Revalidated with the upstream, which answered 304.
        case revalidated
        /// Waited for another request's fetch and served its result.
        case collapsed
        /// Fetched from the upstream.
        case miss
        /// Not looked up: the method, a range, or an `only-if-cached` request with nothing stored.
        case bypass
    }

    package var outcome: Outcome
    /// RFC 9211 `fwd`: why the request went to the upstream.
    var forward: String?
    var forwardStatus: Int?
    var ttl: Int?
    var stored = false
    var collapsed = false
    var detail: String?

    /// The header's name for this cache.
    static let cacheName = "Portico"

    /// The `Cache-Status` field value.
    package var headerValue: String {
        var value = Self.cacheName
        switch outcome {
        case .hit,
            .stale where forward == nil:
            value += "; hit"
        default: break
        }
        if let forward { value += "; fwd=" + forward }
        if let forwardStatus { value += "; fwd-status=\(forwardStatus)" }
        if let ttl { value += "; ttl=\(ttl)" }
        if stored { value += "; stored" }
        if collapsed { value += "; collapsed" }
        if let detail { value += "; detail=\"\(detail)\"" }
        return value
    }
}
