import HTTPTypes
import Hummingbird
import PorticoConfig
import Synchronization

/// The terminal stage of a traffic split: picks a side (an upstream) per request and hands the
/// request to that side's stage.
///
/// A force header naming a side wins; otherwise a sticky key (client IP, a header or a cookie)
/// hashes to a side, so a caller stays on it; otherwise smooth weighted round robin spreads
/// requests exactly by weight.
final class SplitStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let sides: [(upstream: String, stage: any Policy)]
    let weights: [Int]
    private let allSides: [Int]
    let sticky: HashKey?
    let forceHeader: HTTPField.Name?
    private let roundRobin: Mutex<SmoothWeightedRoundRobin>

    init(sides: [(upstream: String, stage: any Policy)], config: SplitConfig) {
        self.sides = sides
        self.weights = config.sides.map { max($0.weight, 0) }
        self.allSides = Array(sides.indices)
        self.sticky = config.sticky
        self.forceHeader = config.forceHeader.flatMap { HTTPField.Name($0) }
        self.roundRobin = Mutex(SmoothWeightedRoundRobin(count: sides.count))
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let side = choose(request, exchange: exchange)
        return try await sides[side].stage.handle(request, exchange: exchange, next: next)
    }

    func choose(_ request: Request, exchange: Exchange) -> Int {
        if let forceHeader, let name = request.headers[forceHeader],
            let forced = sides.firstIndex(where: { $0.upstream == name })
        {
            return forced
        }
        if let key = stickyKey(request, exchange: exchange) {
            let total = weights.reduce(0, +)
            guard total > 0 else { return 0 }
            var point = Int(ConsistentHashRing.hash(key) % UInt64(total))
            for (index, weight) in weights.enumerated() {
                point -= weight
                if point < 0 { return index }
            }
        }
        return roundRobin.withLock { $0.pick(eligible: allSides, weights: weights) } ?? 0
    }

    private func stickyKey(_ request: Request, exchange: Exchange) -> String? {
        switch sticky {
        case .clientIP?: return exchange.clientAddress
        case .header(let name)?: return HTTPField.Name(name).flatMap { request.headers[$0] }
        case .cookie(let name)?: return RequestCookies.value(named: name, in: request.headers)
        case .consumer?: return exchange.identity?.consumer ?? exchange.clientAddress
        case .path?, nil: return nil
        }
    }
}
