/// nginx's smooth weighted round robin: over any window, each target gets picks in proportion to
/// its weight, and the picks of a heavy target are spread out instead of bunched.
///
/// Each pick adds every eligible target's weight to its running score, takes the highest, and
/// subtracts the total weight from the winner.
struct SmoothWeightedRoundRobin: Sendable {
    private var scores: [Int]

    init(count: Int) {
        scores = Array(repeating: 0, count: count)
    }

    /// Picks among `eligible` indices with the given weights (a weight of 0 is never picked).
    mutating func pick(eligible: [Int], weights: [Int]) -> Int? {
        var best: Int?
        var total = 0
        for index in eligible where weights[index] > 0 {
            scores[index] += weights[index]
            total += weights[index]
            if best == nil || scores[index] > scores[best!] { best = index }
        }
        if let best { scores[best] -= total }
        return best
    }
}
