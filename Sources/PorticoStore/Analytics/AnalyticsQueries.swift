import Foundation
import GRDB

/// What an analytics query covers.
package struct AnalyticsFilter: Sendable {
    package var from: Date
    package var to: Date
    package var api: String?
    package var version: String?
    package var route: String?
    package var consumer: String?
    /// 2 to 5, for 2xx to 5xx.
    package var statusClass: Int?

    package init(
        from: Date, to: Date, api: String? = nil, version: String? = nil, route: String? = nil, consumer: String? = nil,
        statusClass: Int? = nil
    ) {
        self.from = from
        self.to = to
        self.api = api
        self.version = version
        self.route = route
        self.consumer = consumer
        self.statusClass = statusClass
    }
}

/// Counts and latency percentiles for one time bucket or one group.
package struct UsageSummary: Sendable {
    /// The bucket's start, or the group's key.
    package var key: String
    package var time: Date?
    package var count: Int
    package var errors: Int
    package var bytesIn: Int
    package var bytesOut: Int
    package var p50: Double?
    package var p95: Double?
    package var p99: Double?
    package var upstreamP50: Double?
    package var upstreamP95: Double?
    package var upstreamP99: Double?
}

/// The groupings `top` can break usage down by.
package enum UsageDimension: String, Sendable, CaseIterable {
    case api, version, route, consumer
    case status = "status_class"
}

/// A store whose rollups answer grouped sums: `timeSeries` and `top` are built on it once, for
/// both stores, which differ only in the SQL dialect of `summaries`.
protocol RollupSummaries: DataStore {
    /// The rollups at `level` within `filter`, summed per value of `groupExpression` (SQL over `r`).
    func summaries(_ filter: AnalyticsFilter, level: String, groupExpression: String) async throws -> [UsageSummary]
}

extension RollupSummaries {
    /// Usage per time bucket, from the rollups: minute rollups for buckets under an hour, hour
    /// rollups for whole hours, day rollups for whole days.
    package func timeSeries(_ filter: AnalyticsFilter, bucketSeconds: Int) async throws -> [UsageSummary] {
        let size = max(60, bucketSeconds - bucketSeconds % 60)
        let level = size % 86_400 == 0 ? "day" : size % 3600 == 0 ? "hour" : "minute"
        let group = "(r.bucket / \(size)) * \(size)"
        return try await summaries(
            filter, level: RollupLevels.level(level, for: filter, byConsumer: false), groupExpression: group
        ).map { summary in
            var point = summary
            point.time = Date(timeIntervalSince1970: Double(summary.key) ?? 0)
            return point
        }.sorted { ($0.time ?? .distantPast) < ($1.time ?? .distantPast) }
    }

    /// The `limit` largest groups by call count.
    package func top(_ dimension: UsageDimension, _ filter: AnalyticsFilter, limit: Int) async throws -> [UsageSummary]
    {
        let span = filter.to.timeIntervalSince(filter.from)
        let level = span <= 6 * 3600 ? "minute" : span <= 90 * 86_400 ? "hour" : "day"
        let rows = try await summaries(
            filter, level: RollupLevels.level(level, for: filter, byConsumer: dimension == .consumer),
            groupExpression: "r.\(dimension.rawValue)")
        return Array(rows.sorted { ($0.count, $1.key) > ($1.count, $0.key) }.prefix(limit)).map { row in
            var named = row
            if dimension == .status { named.key = "\(row.key)xx" }
            return named
        }
    }
}

enum RollupLevels {
    /// The rollup level to read: the all-consumer one (far fewer rows) unless the query filters
    /// or groups by consumer.
    static func level(_ level: String, for filter: AnalyticsFilter, byConsumer: Bool) -> String {
        filter.consumer == nil && !byConsumer ? RollupBatch.Level.allConsumersPrefix + level : level
    }

    /// A summed row's two dense histograms as the summary's percentiles.
    static func summary(
        key: String, count: Int, errors: Int, bytesIn: Int, bytesOut: Int, total: [Int], upstream: [Int]
    ) -> UsageSummary {
        UsageSummary(
            key: key, count: count, errors: errors, bytesIn: bytesIn, bytesOut: bytesOut,
            p50: LatencyHistogram.percentile(0.50, dense: total),
            p95: LatencyHistogram.percentile(0.95, dense: total),
            p99: LatencyHistogram.percentile(0.99, dense: total),
            upstreamP50: LatencyHistogram.percentile(0.50, dense: upstream),
            upstreamP95: LatencyHistogram.percentile(0.95, dense: upstream),
            upstreamP99: LatencyHistogram.percentile(0.99, dense: upstream))
    }
}

extension SQLiteStore: RollupSummaries {
    func summaries(_ filter: AnalyticsFilter, level: String, groupExpression: String) async throws -> [UsageSummary] {
        var conditions = ["r.level = ?", "r.bucket >= ?", "r.bucket < ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [level]
        if let coarse = RollupBatch.Level(rawValue: level), RollupBatch.Level.coarse.contains(coarse) {
            // Hours and days hold the minutes before the watermark; the minutes after it are read as they are.
            conditions[0] = "(r.level = ? OR (r.level = ? AND r.bucket >= (SELECT until FROM rollup_watermark)))"
            arguments.append(coarse.source.rawValue)
        }
        // `to` rounded up: a query at 12:31:00.4 must still see the bucket starting at 12:31:00.
        arguments += [Int64(filter.from.timeIntervalSince1970), Int64(filter.to.timeIntervalSince1970.rounded(.up))]
        for (column, value) in [
            ("api", filter.api), ("version", filter.version), ("route", filter.route), ("consumer", filter.consumer),
        ] {
            if let value {
                conditions.append("r.\(column) = ?")
                arguments.append(value)
            }
        }
        if let statusClass = filter.statusClass {
            conditions.append("r.status_class = ?")
            arguments.append(statusClass)
        }
        let whereClause = conditions.joined(separator: " AND ")
        let statementArguments = StatementArguments(arguments)
        return try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(\(groupExpression) AS TEXT) AS key, SUM(count) AS count, SUM(errors) AS errors,
                           SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out,
                           portico_histogram_sum(total_histogram) AS total, portico_histogram_sum(upstream_histogram) AS upstream
                    FROM rollups r WHERE \(whereClause) GROUP BY key
                    """,
                arguments: statementArguments
            ).map { row in
                var total = [Int](repeating: 0, count: LatencyHistogram.bucketCount)
                var upstream = [Int](repeating: 0, count: LatencyHistogram.bucketCount)
                if let data = row["total"] as Data? { LatencyHistogram.decode(data, into: &total) }
                if let data = row["upstream"] as Data? { LatencyHistogram.decode(data, into: &upstream) }
                return RollupLevels.summary(
                    key: row["key"] ?? "", count: row["count"], errors: row["errors"], bytesIn: row["bytes_in"],
                    bytesOut: row["bytes_out"], total: total, upstream: upstream)
            }
        }
    }
}
