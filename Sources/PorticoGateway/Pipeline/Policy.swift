import Hummingbird

/// Where in the request path a policy runs. Chains are ordered by phase, then by priority.
///
/// `request` policies see the request first and may answer early; the `upstream` stage is the
/// terminal one; what a policy does after `next` returns is its response phase, which therefore
/// runs in reverse order. The log phase is the gateway's own and always runs.
package enum PolicyPhase: Int, Sendable, Comparable {
    case request = 0
    case upstream = 1

    package static func < (lhs: PolicyPhase, rhs: PolicyPhase) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One step of a route's chain (an Envoy filter, a Kong plugin).
///
/// A policy either answers by itself (401, 413, a cache hit) or calls `next` and may then edit
/// the response on its way back.
package protocol Policy: Sendable {
    /// The phase the policy runs in.
    var phase: PolicyPhase { get }
    /// Higher runs earlier within a phase (as Kong's plugin priorities).
    var priority: Int { get }
    /// Handles the request, calling `next` to continue down the chain.
    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response
}

/// The rest of a chain, handed to each policy.
package struct PolicyNext: Sendable {
    let chain: PolicyChain
    let index: Int

    /// Runs the rest of the chain on `request`.
    package func callAsFunction(_ request: Request, exchange: Exchange) async throws -> Response {
        try await chain.run(request, exchange: exchange, from: index)
    }
}
