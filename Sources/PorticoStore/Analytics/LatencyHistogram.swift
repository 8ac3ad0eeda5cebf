import Foundation

/// Log-scale latency buckets: bucket `b` starts at 0.05 ms × 2^(b/4), so each bucket is about 19 %
/// wide and a percentile read from the buckets is within about ±9 % of the exact value. 100 buckets
/// reach past 20 minutes.
package enum LatencyHistogram {
    package static let bucketCount = 100
    static let base = 0.05
    static let perDoubling = 4.0

    /// The bucket a duration in milliseconds falls in.
    package static func bucket(milliseconds: Double) -> Int {
        guard milliseconds > base else { return 0 }
        return min(Int((log2(milliseconds / base) * perDoubling).rounded(.down)), bucketCount - 1)
    }

    /// The lower bound of a bucket, in milliseconds.
    package static func lowerBound(_ bucket: Int) -> Double {
        base * pow(2, Double(bucket) / perDoubling)
    }

    /// The value reported for a bucket: the geometric middle of its bounds.
    package static func representative(_ bucket: Int) -> Double {
        bucket == 0 ? base / 2 : base * pow(2, (Double(bucket) + 0.5) / perDoubling)
    }

    /// The `quantile` (0 to 1) of the distribution given as counts per bucket; nil when empty.
    package static func percentile(_ quantile: Double, counts: [Int: Int]) -> Double? {
        var dense = [Int](repeating: 0, count: bucketCount)
        for (bucket, count) in counts where dense.indices.contains(bucket) { dense[bucket] += count }
        return percentile(quantile, dense: dense)
    }

    /// The same, from `bucketCount` counts indexed by bucket.
    package static func percentile(_ quantile: Double, dense counts: [Int]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for (bucket, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return representative(bucket) }
        }
        return nil
    }
}

extension LatencyHistogram {
    /// Appends one entry of the blob format: the bucket byte and the count, little-endian.
    static func append(_ bucket: UInt8, _ count: UInt32, to bytes: inout [UInt8]) {
        bytes.append(bucket)
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        bytes.append(UInt8(truncatingIfNeeded: count >> 16))
        bytes.append(UInt8(truncatingIfNeeded: count >> 24))
    }

    /// Counts per bucket as a compact blob: for each non-empty bucket, its index (one byte) and
    /// its count (four bytes, little-endian), in bucket order. Rollup rows store histograms so.
    package static func encode(_ counts: [Int: Int]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 5)
        for (bucket, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 {
            append(UInt8(bucket), UInt32(clamping: count), to: &bytes)
        }
        return Data(bytes)
    }

    /// Adds an encoded histogram into `bucketCount` dense counts.
    package static func decode(_ data: Data, into counts: inout [Int]) {
        data.withUnsafeBytes { bytes in
            var index = 0
            while index + 5 <= bytes.count {
                let bucket = Int(bytes[index])
                let count =
                    UInt32(bytes[index + 1]) | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3]) << 16
                    | UInt32(bytes[index + 4]) << 24
                if bucket < counts.count { counts[bucket] += Int(count) }
                index += 5
            }
        }
    }

    /// Dense counts encoded, empty buckets left out.
    package static func encode(dense counts: [Int]) -> Data {
        var bytes: [UInt8] = []
        for (bucket, count) in counts.enumerated() where count > 0 {
            append(UInt8(bucket), UInt32(clamping: count), to: &bytes)
        }
        return Data(bytes)
    }

    /// The buckets of single observations (one byte each, in any order) encoded.
    static func encode(observations: [UInt8]) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(observations.count * 5)
        var run: (bucket: UInt8, count: UInt32)?
        func flush() {
            if let run { append(run.bucket, run.count, to: &bytes) }
        }
        for bucket in observations.sorted() {
            if run?.bucket == bucket { run!.count += 1 } else { flush(); run = (bucket, 1) }
        }
        flush()
        return Data(bytes)
    }

    package static func decode(_ data: Data, into counts: inout [Int: Int]) {
        var index = data.startIndex
        while index + 5 <= data.endIndex {
            let bucket = Int(data[index])
            var count: UInt32 = 0
            for offset in 0..<4 { count |= UInt32(data[index + 1 + offset]) << (8 * offset) }
            counts[bucket, default: 0] += Int(count)
            index += 5
        }
    }

    /// Two encoded histograms added together: a merge of two lists sorted by bucket, done on
    /// the bytes (this runs in every rollup upsert).
    static func merge(_ first: Data?, _ second: Data?) -> Data {
        guard let first, !first.isEmpty else { return second ?? Data() }
        guard let second, !second.isEmpty else { return first }
        return first.withUnsafeBytes { a in second.withUnsafeBytes { b in Data(merge(a, b)) } }
    }

    /// The merge on raw bytes, for the SQL function.
    static func merge(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(a.count + b.count)
        func count(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> UInt32 {
            UInt32(bytes[index + 1]) | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3]) << 16 | UInt32(
                bytes[index + 4]) << 24
        }
        var i = 0
        var j = 0
        while i + 5 <= a.count || j + 5 <= b.count {
            if j + 5 > b.count || (i + 5 <= a.count && a[i] < b[j]) {
                append(a[i], count(a, i), to: &out)
                i += 5
            } else if i + 5 > a.count || b[j] < a[i] {
                append(b[j], count(b, j), to: &out)
                j += 5
            } else {
                let (sum, overflow) = count(a, i).addingReportingOverflow(count(b, j))
                append(a[i], overflow ? .max : sum, to: &out)
                i += 5
                j += 5
            }
        }
        return out
    }
}
