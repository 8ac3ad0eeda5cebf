import Foundation

/// A batch of calls summed per minute (or hour, or day), per API, version, route, consumer and
/// status class, so that one write transaction adds each group once instead of once per call.
///
/// Each level is kept twice: per consumer, and for all consumers together (`all-minute` …,
/// consumer `''`). Queries that neither filter nor group by consumer read the second, which has
/// as many rows per bucket as there are routes and status classes, not times consumers.
///
/// Batches write the minute levels; hours and days are rolled up from the minutes of finished
/// hours by `SQLiteStore.rollUp(before:)`. Only a call older than the roll-up watermark (a long request
/// logged late) is added to the hour and day levels directly.
struct RollupBatch {
    enum Level: String, CaseIterable {
        case minute, hour, day
        case allMinute = "all-minute", allHour = "all-hour", allDay = "all-day"

        static let allConsumersPrefix = "all-"

        var seconds: Int64 {
            switch self {
            case .minute, .allMinute: return 60
            case .hour, .allHour: return 3600
            case .day, .allDay: return 86_400
            }
        }

        var perConsumer: Bool { self == .minute || self == .hour || self == .day }

        /// What a batch writes.
        static let minutes: [Level] = [.minute, .allMinute]
        /// What the roll-up makes from the minutes, each with the minute level it reads.
        static let coarse: [Level] = [.hour, .day, .allHour, .allDay]

        /// The minute level a coarser level is rolled up from.
        var source: Level { perConsumer ? .minute : .allMinute }
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
        /// The latency bucket of each call, for total time and for upstream time; counted when encoded.
        var total: [UInt8] = []
        var upstream: [UInt8] = []
    }

    private(set) var groups: [Key: Sums] = [:]

    init(_ calls: [CallRecord], levels: [Level] = Level.minutes) {
        groups.reserveCapacity(calls.count * 2)
        for call in calls {
            let time = Int64(call.time.timeIntervalSince1970)
            let totalBucket = UInt8(LatencyHistogram.bucket(milliseconds: call.totalMilliseconds))
            let upstreamBucket = call.upstreamMilliseconds.map { UInt8(LatencyHistogram.bucket(milliseconds: $0)) }
            let (api, version, route, consumer) = (call.api ?? "", call.version ?? "", call.route ?? "", call.consumer ?? "")
            for level in levels {
                let key = Key(
                    level: level, bucket: time - time % level.seconds, api: api, version: version,
                    route: route, consumer: level.perConsumer ? consumer : "", statusClass: call.status / 100)
                groups[key, default: Sums()].add(call, totalBucket: totalBucket, upstreamBucket: upstreamBucket)
            }
        }
    }
}

extension RollupBatch.Sums {
    mutating func add(_ call: CallRecord, totalBucket: UInt8, upstreamBucket: UInt8?) {
        count += 1
        if call.status >= 500 { errors += 1 }
        bytesIn += call.bytesIn
        bytesOut += call.bytesOut
        totalMilliseconds += call.totalMilliseconds
        total.append(totalBucket)
        if let upstream = call.upstreamMilliseconds, let upstreamBucket {
            upstreamMilliseconds += upstream
            self.upstream.append(upstreamBucket)
        }
    }
}
