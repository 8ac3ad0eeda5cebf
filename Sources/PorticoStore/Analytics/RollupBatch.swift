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
    /// The second of the earliest call added.
    private(set) var earliest = Int64.max

    /// Sums `batch` at `levels`; with `before`, only the calls before that second (Unix time).
    init(_ batch: CallRecordBatch, levels: [Level] = Level.minutes, before limit: Int64? = nil) {
        groups.reserveCapacity(min(batch.count, 1024) * levels.count)
        // Calls of one group tend to come together (one busy route and consumer in one minute):
        // each call is compared, bytes against bytes, with the one before, and only a change of
        // group makes keys (strings) and costs a hash lookup.
        var open = [Key?](repeating: nil, count: levels.count)
        var openSums = [Sums](repeating: Sums(), count: levels.count)
        var previous: RawGroup?
        batch.forEachCall { reader in
            let time = Int64(reader.double())
            for _ in 0..<3 { _ = reader.text() }  // request id, method, path
            let (api, version, consumer, route) = (reader.text(), reader.text(), reader.text(), reader.text())
            let status = reader.int()
            let (bytesIn, bytesOut) = (reader.int(), reader.int())
            let (total, upstream) = (reader.double(), reader.optionalDouble())
            for _ in 0..<3 { _ = reader.text() }  // target, client, error
            _ = reader.int()  // retries
            // Key prefix, rate limit, cache, trace id, mirror, protocol, validation.
            for _ in 0..<7 { _ = reader.text() }
            reader.skipBackends()
            if let limit, time >= limit { return }
            earliest = min(earliest, time)

            let group = RawGroup(
                minute: time / 60, statusClass: status / 100, api: api, version: version, route: route,
                consumer: consumer)
            let call = Observation(
                status: status, bytesIn: bytesIn, bytesOut: bytesOut, total: total, upstream: upstream,
                totalBucket: UInt8(LatencyHistogram.bucket(milliseconds: total)),
                upstreamBucket: upstream.map { UInt8(LatencyHistogram.bucket(milliseconds: $0)) })
            if previous?.matches(group) != true {
                previous = group
                let (api, version, route, consumer) = (
                    group.string(api), group.string(version), group.string(route), group.string(consumer)
                )
                for (index, level) in levels.enumerated() {
                    let key = Key(
                        level: level, bucket: time - time % level.seconds, api: api, version: version,
                        route: route, consumer: level.perConsumer ? consumer : "", statusClass: group.statusClass)
                    if key != open[index] {
                        if let filled = open[index] { groups[filled, default: Sums()].add(openSums[index]) }
                        open[index] = key
                        openSums[index] = Sums()
                    }
                }
            }
            for index in levels.indices { openSums[index].add(call) }
        }
        for (index, key) in open.enumerated() {
            if let key { groups[key, default: Sums()].add(openSums[index]) }
        }
    }

    /// What a call adds to its groups.
    struct Observation {
        var status: Int
        var bytesIn: Int
        var bytesOut: Int
        var total: Double
        var upstream: Double?
        var totalBucket: UInt8
        var upstreamBucket: UInt8?
    }

    /// A call's group at the minute levels, as the bytes in the batch; valid while it is read.
    struct RawGroup {
        var minute: Int64
        var statusClass: Int
        var api: UnsafeRawBufferPointer?
        var version: UnsafeRawBufferPointer?
        var route: UnsafeRawBufferPointer?
        var consumer: UnsafeRawBufferPointer?

        func matches(_ other: RawGroup) -> Bool {
            minute == other.minute && statusClass == other.statusClass && Self.same(api, other.api)
                && Self.same(version, other.version) && Self.same(route, other.route)
                && Self.same(consumer, other.consumer)
        }

        static func same(_ a: UnsafeRawBufferPointer?, _ b: UnsafeRawBufferPointer?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            guard a.count == b.count else { return false }
            return a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
        }

        /// A key part: the text, or empty when absent.
        func string(_ text: UnsafeRawBufferPointer?) -> String {
            text.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}

extension RollupBatch.Sums {
    mutating func add(_ call: RollupBatch.Observation) {
        count += 1
        if call.status >= 500 { errors += 1 }
        bytesIn += call.bytesIn
        bytesOut += call.bytesOut
        totalMilliseconds += call.total
        total.append(call.totalBucket)
        if let upstream = call.upstream, let upstreamBucket = call.upstreamBucket {
            upstreamMilliseconds += upstream
            self.upstream.append(upstreamBucket)
        }
    }

    /// Adds another group's sums to these.
    mutating func add(_ other: Self) {
        guard count > 0 else {
            self = other
            return
        }
        count += other.count
        errors += other.errors
        bytesIn += other.bytesIn
        bytesOut += other.bytesOut
        totalMilliseconds += other.totalMilliseconds
        upstreamMilliseconds += other.upstreamMilliseconds
        total += other.total
        upstream += other.upstream
    }
}
