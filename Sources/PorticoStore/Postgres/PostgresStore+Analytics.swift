import Foundation
import PostgresNIO

/// The analytics queries, as `SQLiteStore`'s, on the shared rollups and calls.
extension PostgresStore: RollupSummaries {
    func summaries(_ filter: AnalyticsFilter, level: String, groupExpression: String) async throws -> [UsageSummary] {
        var binds = PostgresBindings()
        var conditions: [String] = []
        func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let coarse = RollupBatch.Level(rawValue: level), RollupBatch.Level.coarse.contains(coarse) {
            // Hours and days hold the minutes before the watermark; the minutes after it are read as they are.
            conditions.append(
                "(r.level = \(bind(level)) OR (r.level = \(bind(coarse.source.rawValue)) AND r.bucket >= (SELECT until FROM rollup_watermark)))"
            )
        } else {
            conditions.append("r.level = \(bind(level))")
        }
        conditions.append("r.bucket >= \(bind(Int64(filter.from.timeIntervalSince1970)))")
        conditions.append("r.bucket < \(bind(Int64(filter.to.timeIntervalSince1970.rounded(.up))))")
        for (column, value) in [
            ("api", filter.api), ("version", filter.version), ("route", filter.route), ("consumer", filter.consumer),
        ] {
            if let value { conditions.append("r.\(column) = \(bind(value))") }
        }
        if let statusClass = filter.statusClass { conditions.append("r.status_class = \(bind(statusClass))") }
        let sql = """
            SELECT CAST(\(groupExpression) AS TEXT) AS key, SUM(count)::BIGINT AS count, SUM(errors)::BIGINT AS errors,
                   SUM(bytes_in)::BIGINT AS bytes_in, SUM(bytes_out)::BIGINT AS bytes_out,
                   portico_histogram_sum(total_histogram) AS total, portico_histogram_sum(upstream_histogram) AS upstream
            FROM rollups r WHERE \(conditions.joined(separator: " AND ")) GROUP BY 1
            """
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)) { row in
            let total = try row["total"].decode([Int64].self).map { Int($0) }
            let upstream = try row["upstream"].decode([Int64].self).map { Int($0) }
            return RollupLevels.summary(
                key: try row.optionalText("key") ?? "", count: try row.int("count"), errors: try row.int("errors"),
                bytesIn: try row.int("bytes_in"), bytesOut: try row.int("bytes_out"), total: total, upstream: upstream)
        }
    }

    package func searchCalls(_ search: CallSearch) async throws -> [CallRecord] {
        var binds = PostgresBindings()
        var conditions: [String] = []
        for condition in search.conditions {
            switch condition.value {
            case .text(let text): binds.append(text)
            case .int(let number): binds.append(number)
            case .double(let number): binds.append(number)
            }
            conditions.append(condition.sql.replacingOccurrences(of: "?", with: "$\(binds.count)"))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        binds.append(search.page.limit)
        binds.append(search.page.offset)
        let sql = "SELECT * FROM calls \(whereClause) ORDER BY id DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        var calls = try await rows(PostgresQuery(unsafeSQL: sql, binds: binds), Self.call)
        let ids = Array(Set(calls.map(\.requestID)))
        guard !ids.isEmpty else { return calls }
        struct Key: Hashable { let id: String; let time: Double }
        var byRequest: [Key: [BackendCallRecord]] = [:]
        for row in try await rows(
            "SELECT * FROM call_backends WHERE request_id = ANY(\(ids)) ORDER BY request_id, time, position", { $0 })
        {
            byRequest[Key(id: try row.text("request_id"), time: try row.double("time")), default: []].append(
                BackendCallRecord(
                    name: try row.text("name"), target: try row.optionalText("target"), status: try row.int("status"),
                    milliseconds: try row.double("ms"), error: try row.optionalText("error"),
                    spanID: try row.optionalText("span_id"),
                    cache: try row.optionalText("cache")))
        }
        for index in calls.indices {
            calls[index].backends =
                byRequest[Key(id: calls[index].requestID, time: calls[index].time.timeIntervalSince1970)] ?? []
        }
        return calls
    }

    static func call(_ row: PostgresRandomAccessRow) throws -> CallRecord {
        var call = CallRecord(
            time: try row.date("time"), requestID: try row.text("request_id"), method: try row.text("method"),
            path: try row.text("path"),
            api: try row.optionalText("api"), version: try row.optionalText("version"),
            consumer: try row.optionalText("consumer"),
            route: try row.optionalText("route"), status: try row.int("status"), bytesIn: try row.int("bytes_in"),
            bytesOut: try row.int("bytes_out"), totalMilliseconds: try row.double("total_ms"),
            upstreamMilliseconds: try row.optionalDouble("upstream_ms"), target: try row.optionalText("target"),
            clientAddress: try row.optionalText("client"), error: try row.optionalText("error"),
            retries: try row.int("retries"))
        call.keyPrefix = try row.optionalText("key_prefix")
        call.rateLimit = try row.optionalText("rate_limit")
        call.cache = try row.optionalText("cache")
        call.traceID = try row.optionalText("trace_id")
        call.mirror = try row.optionalText("mirror")
        call.protocolVersion = try row.optionalText("protocol")
        call.validation = try row.optionalText("validation")
        return call
    }
}
