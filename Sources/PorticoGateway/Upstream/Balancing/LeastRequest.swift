/// Least-request with the power of two choices: draw two eligible targets at random (weighted)
/// and take the one with fewer requests in flight per unit of weight. Nearly as good as a full
/// scan at spreading load, without its herd behaviour.
enum LeastRequest {
    static func pick(
        eligible: [Int], weights: [Int], inFlight: (Int) -> Int, using random: inout some RandomNumberGenerator
    ) -> Int? {
        guard let first = WeightedRandom.pick(eligible: eligible, weights: weights, using: &random) else { return nil }
        guard eligible.count > 1,
            let second = WeightedRandom.pick(
                eligible: eligible.filter { $0 != first }, weights: weights, using: &random)
        else { return first }
        // Compare load per weight without division: a/wa < b/wb  <=>  a*wb < b*wa.
        let firstLoad = inFlight(first) * max(weights[second], 1)
        let secondLoad = inFlight(second) * max(weights[first], 1)
        return secondLoad < firstLoad ? second : first
    }
}

/// A random target, in proportion to the weights.
enum WeightedRandom {
    static func pick(eligible: [Int], weights: [Int], using random: inout some RandomNumberGenerator) -> Int? {
        let total = eligible.reduce(0) { $0 + max(weights[$1], 0) }
        guard total > 0 else { return nil }
        var draw = Int.random(in: 0..<total, using: &random)
        for index in eligible {
            draw -= max(weights[index], 0)
            if draw < 0 { return index }
        }
        return nil
    }
}
