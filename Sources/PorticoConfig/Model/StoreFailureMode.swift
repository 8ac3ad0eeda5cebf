/// What a rate limit does when its shared store (Redis) cannot answer in time.
package enum StoreFailureMode: String, Sendable, Hashable, CaseIterable {
    /// Let the request through, uncounted.
    case allow
    /// Refuse the request with 503 problem+json.
    case deny
    /// Count it in this node's memory until the store is back.
    case local
}
