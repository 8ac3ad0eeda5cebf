/// A hash ring with virtual nodes: a key maps to the first point clockwise from its hash.
///
/// Each target gets points in proportion to its weight, so adding one of N targets moves about
/// 1/(N+1) of the keys, and only onto the new target.
struct ConsistentHashRing: Sendable {
    private let points: [(hash: UInt64, target: Int)]

    /// - Parameters:
    ///   - names: a stable name per target (its URL), so the ring does not depend on list order.
    ///   - pointsPerWeight: virtual nodes per unit of weight.
    init(names: [String], weights: [Int], pointsPerWeight: Int = 160) {
        var points: [(UInt64, Int)] = []
        for (target, name) in names.enumerated() where weights[target] > 0 {
            for replica in 0..<(weights[target] * pointsPerWeight) {
                points.append((Self.hash("\(name)#\(replica)"), target))
            }
        }
        self.points = points.sorted { $0.0 < $1.0 }
    }

    /// The target for `key`, skipping targets that are not `eligible`; nil when none is.
    func pick(key: String, eligible: Set<Int>) -> Int? {
        guard !points.isEmpty, !eligible.isEmpty else { return nil }
        let hash = Self.hash(key)
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        for step in 0..<points.count {
            let target = points[(low + step) % points.count].target
            if eligible.contains(target) { return target }
        }
        return nil
    }

    /// FNV-1a, then a 64-bit finalizer (from SplitMix64) so nearby keys spread over the ring.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= value >> 30
        value = value &* 0xbf58_476d_1ce4_e5b9
        value ^= value >> 27
        value = value &* 0x94d0_49bb_1331_11eb
        value ^= value >> 31
        return value
    }
}
