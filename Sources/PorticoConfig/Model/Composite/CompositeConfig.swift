/// A composite endpoint (`calls:`): one client call answered from several backend calls, run
/// concurrently where they do not depend on each other, and merged into one JSON answer.
package struct CompositeConfig: Sendable, Hashable {
    /// In declaration order; the order of running follows the dependencies.
    package var calls: [BackendCallConfig]
    /// What happens when an optional call fails.
    package var partial: PartialMode = .header
    /// What of the merged result is kept, and how it is wrapped.
    package var result = ResultShape()
    /// How the endpoint counts against rate limits and quotas.
    package var count: CountMode = .once
    /// Client request headers sent on to every backend call (besides the gateway's own:
    /// request id, trace, forwarding and identity headers).
    package var forwardHeaders: [String] = ["Accept-Language"]
    /// The most bytes all the calls' answers may add up to; past it, calls fail.
    package var maxMergedSize = 8 << 20

    package enum PartialMode: String, Sendable, Hashable, CaseIterable {
        /// `X-Portico-Completed: false` on the answer.
        case header
        /// The header, and a `_partial` member listing each failed call and why.
        case body
        /// Any failed call fails the request, as a required one does.
        case fail
    }

    package enum CountMode: String, Sendable, Hashable, CaseIterable {
        /// One client call costs its `cost`.
        case once
        /// Each declared backend call costs the route's `cost` (a `for-each` counts once).
        case perCall = "per-call"
    }

    /// `result: {wrap: data, array: false, allow: […], deny: […], rename: {…}, move: {…}}`.
    package struct ResultShape: Sendable, Hashable {
        /// The merged result goes under this member of a new object.
        package var wrap: String?
        /// The result is an array of each call's answer, in declaration order, instead of an object.
        package var array = false
        package var rules = MergeRules()
        package init() {}
    }

    package init(calls: [BackendCallConfig]) {
        self.calls = calls
    }

    /// The calls in an order where each comes after the calls it depends on, or nil when the
    /// dependencies form a cycle (the loader reports it).
    package var runOrder: [Int]? {
        var order: [Int] = []
        var done: Set<String> = []
        var left = Array(calls.indices)
        while !left.isEmpty {
            let ready = left.filter { calls[$0].dependencies.isSubset(of: done) }
            guard !ready.isEmpty else { return nil }
            order += ready
            for index in ready { done.insert(calls[index].name) }
            left.removeAll { ready.contains($0) }
        }
        return order
    }
}
