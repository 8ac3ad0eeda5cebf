import Foundation

/// Log-scale latency buckets: bucket `b` starts at 0.05 ms × 2^(b/4), so each bucket is about 19 %
/// wide and a percentile read from the buckets is within about ±9 % of the exact value. 100 buckets
/// reach past 20 minutes.
public enum LatencyHistogram {
    public static let bucketCount = 100
    static let base = 0.05
    static let perDoubling = 4.0

    /// The bucket a duration in milliseconds falls in.
    public static func bucket(milliseconds: Double) -> Int {
        guard milliseconds > base else { return 0 }
        return min(Int((log2(milliseconds / base) * perDoubling).rounded(.down)), bucketCount - 1)
    }

    /// The lower bound of a bucket, in milliseconds.
    public static func lowerBound(_ bucket: Int) -> Double {
        base * pow(2, Double(bucket) / perDoubling)
    }

    /// The value reported for a bucket: the geometric middle of its bounds.
    public static func representative(_ bucket: Int) -> Double {
        bucket == 0 ? base / 2 : base * pow(2, (Double(bucket) + 0.5) / perDoubling)
    }

    /// The `quantile` (0 to 1) of the distribution given as counts per bucket; nil when empty.
    public static func percentile(_ quantile: Double, counts: [Int: Int]) -> Double? {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket]!
            if seen >= rank { return representative(bucket) }
        }
        return nil
    }
}

extension LatencyHistogram {
    /// Counts per bucket as a compact blob: for each non-empty bucket, its index (one byte) and
    /// its count (four bytes, little-endian), in bucket order. Rollup rows store histograms so.
    public static func encode(_ counts: [Int: Int]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 5)
        for (bucket, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 {
            let value = UInt32(clamping: count)
            bytes.append(UInt8(bucket))
            bytes.append(UInt8(truncatingIfNeeded: value))
            bytes.append(UInt8(truncatingIfNeeded: value >> 8))
            bytes.append(UInt8(truncatingIfNeeded: value >> 16))
            bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        }
        return Data(bytes)
    }

    public static func decode(_ data: Data, into counts: inout [Int: Int]) {
        var index = data.startIndex
        while index + 5 <= data.endIndex {
            let bucket = Int(data[index])
            var count: UInt32 = 0
            for offset in 0..<4 { count |= UInt32(data[index + 1 + offset]) << (8 * offset) }
            counts[bucket, default: 0] += Int(count)
            index += 5
        }
    }

    /// Two encoded histograms added together.
    static func merge(_ first: Data?, _ second: Data?) -> Data {
        var counts: [Int: Int] = [:]
        if let first { decode(first, into: &counts) }
        if let second { decode(second, into: &counts) }
        return encode(counts)
    }
}
