import Foundation

/// A batch of calls summed per minute, hour and day, per API, version, route, consumer and
/// status class, so that one write transaction adds each group once instead of once per call.
struct RollupBatch {
    enum Level: String, CaseIterable {
        case minute, hour, day

        var seconds: Int64 {
            switch self {
            case .minute: return 60
            case .hour: return 3600
            case .day: return 86_400
            }
        }
    }

    struct Key: Hashable {
        var level: Level
        var bucket: Int64
        var api: String
        var version: String
        var route: String
        var consumer: String
        var statusClass: Int
    }

    struct Sums {
        var count = 0
        var errors = 0
        var bytesIn = 0
        var bytesOut = 0
        var totalMilliseconds = 0.0
        var upstreamMilliseconds = 0.0
        /// Counts per latency bucket, for total time and for upstream time.
        var total: [Int: Int] = [:]
        var upstream: [Int: Int] = [:]
    }

    private(set) var groups: [Key: Sums] = [:]

    init(_ calls: [CallRecord]) {
        for call in calls {
            let time = Int64(call.time.timeIntervalSince1970)
            for level in Level.allCases {
                let key = Key(
                    level: level, bucket: time - time % level.seconds, api: call.api ?? "", version: call.version ?? "",
                    route: call.route ?? "", consumer: call.consumer ?? "", statusClass: call.status / 100)
                var sums = groups[key] ?? Sums()
                sums.count += 1
                if call.status >= 500 { sums.errors += 1 }
                sums.bytesIn += call.bytesIn
                sums.bytesOut += call.bytesOut
                sums.totalMilliseconds += call.totalMilliseconds
                sums.total[LatencyHistogram.bucket(milliseconds: call.totalMilliseconds), default: 0] += 1
                if let upstream = call.upstreamMilliseconds {
                    sums.upstreamMilliseconds += upstream
                    sums.upstream[LatencyHistogram.bucket(milliseconds: upstream), default: 0] += 1
                }
                groups[key] = sums
            }
        }
    }
}
