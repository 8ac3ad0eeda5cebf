import Hummingbird

/// A route's policies, sorted once when the config is compiled, ending in the upstream stage.
package struct PolicyChain: Sendable {
    /// The policies in the order they run, the terminal stage last.
    package let policies: [any Policy]
    /// The same chain for the event-loop path, when every policy has a fast path and the
    /// terminal stage proxies to plain-HTTP targets.
    package let fast: FastChain?
    /// The chain has a CORS policy, which answers preflights to the route's path.
    let answersPreflight: Bool

    /// Sorts by phase and priority; the terminal stage must be the only `upstream` policy.
    package init(policies: [any Policy], terminal: any Policy) {
        let sorted = policies.enumerated().sorted { lhs, rhs in
            if lhs.element.phase != rhs.element.phase { return lhs.element.phase < rhs.element.phase }
            if lhs.element.priority != rhs.element.priority { return lhs.element.priority > rhs.element.priority }
            return lhs.offset < rhs.offset
        }
        self.policies = sorted.map(\.element) + [terminal]
        self.answersPreflight = sorted.contains { $0.element is CORSPolicy }
        // A cache whose key does not depend on the caller answers fresh hits on the event-loop
        // path (`FastChain.cache`); its misses take the streaming path, which stores.
        let cacheAt = sorted.firstIndex { ($0.element as? CachePolicy)?.config.key.isEmpty == true }
        let others = sorted.enumerated().filter { $0.offset != cacheAt }.map(\.element.element)
        let fastPolicies = others.compactMap { $0 as? any FastPolicy }
        if fastPolicies.count == others.count, let proxy = terminal as? ProxyStage, proxy.pool.servesEventLoopPath {
            let cache = cacheAt.map { at in (policy: sorted[at].element as! CachePolicy, before: at) }
            self.fast = FastChain(policies: fastPolicies, proxy: proxy, cache: cache)
        } else {
            self.fast = nil
        }
    }

    /// The same policies ending in `terminal` (tests play the upstream so).
    package func replacingTerminal(_ terminal: any Policy) -> PolicyChain {
        PolicyChain(policies: Array(policies.dropLast()), terminal: terminal)
    }

    /// Runs the whole chain.
    package func run(_ request: Request, exchange: Exchange) async throws -> Response {
        try await run(request, exchange: exchange, from: 0)
    }

    func run(_ request: Request, exchange: Exchange, from index: Int) async throws -> Response {
        try await policies[index].handle(request, exchange: exchange, next: PolicyNext(chain: self, index: index + 1))
    }
}
