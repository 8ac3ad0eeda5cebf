import Foundation
import GRDB

/// A search of the raw call log.
package struct CallSearch: Sendable {
    package var requestID: String?
    package var consumer: String?
    /// An exact status.
    package var status: Int?
    /// 2 to 5, for 2xx to 5xx.
    package var statusClass: Int?
    package var route: String?
    package var api: String?
    package var from: Date?
    package var to: Date?
    /// Only calls that took at least this long in total.
    package var minMilliseconds: Double?
    package var limit = 100
    package var offset = 0

    package init() {}

    /// A value a condition compares with.
    enum Value: Sendable {
        case text(String)
        case int(Int)
        case double(Double)
    }

    /// The search's conditions on `calls`, each with one `?` for its value, for either store.
    var conditions: [(sql: String, value: Value)] {
        var result: [(String, Value)] = []
        if let requestID { result.append(("request_id = ?", .text(requestID))) }
        if let consumer { result.append(("consumer = ?", .text(consumer))) }
        if let status { result.append(("status = ?", .int(status))) }
        if let statusClass { result.append(("status / 100 = ?", .int(statusClass))) }
        if let route { result.append(("route = ?", .text(route))) }
        if let api { result.append(("api = ?", .text(api))) }
        if let from { result.append(("time >= ?", .double(from.timeIntervalSince1970))) }
        if let to { result.append(("time < ?", .double(to.timeIntervalSince1970))) }
        if let minMilliseconds { result.append(("total_ms >= ?", .double(minMilliseconds))) }
        return result
    }

    /// `limit` and `offset` within their bounds.
    var page: (limit: Int, offset: Int) { (max(1, min(limit, 100_000)), max(0, offset)) }
}

extension SQLiteStore {
    /// Matching calls, newest first.
    package func searchCalls(_ search: CallSearch) async throws -> [CallRecord] {
        let conditions = search.conditions
        var arguments: [(any DatabaseValueConvertible)?] = conditions.map { condition -> any DatabaseValueConvertible in
            switch condition.value {
            case .text(let text): return text
            case .int(let number): return number
            case .double(let number): return number
            }
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.map(\.sql).joined(separator: " AND ")
        arguments.append(search.page.limit)
        arguments.append(search.page.offset)
        let statementArguments = StatementArguments(arguments)
        return try await database.read { db in
            var calls = try Row.fetchAll(
                db,
                sql: "SELECT * FROM calls \(whereClause) ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: statementArguments
            ).map(CallRecord.init(row:))
            // Composite endpoints' backend rows, for the calls that have some (one query per page).
            let ids = Array(Set(calls.map(\.requestID)))
            if !ids.isEmpty, try Int.fetchOne(db, sql: "SELECT 1 FROM call_backends LIMIT 1") != nil {
                // By request id and time: a client may send a request id another call has used.
                struct Key: Hashable { let id: String; let time: Double }
                var byRequest: [Key: [BackendCallRecord]] = [:]
                for chunk in stride(from: 0, to: ids.count, by: 500) {
                    let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
                    let marks = Array(repeating: "?", count: part.count).joined(separator: ", ")
                    for row in try Row.fetchAll(
                        db,
                        sql:
                            "SELECT * FROM call_backends WHERE request_id IN (\(marks)) ORDER BY request_id, time, position",
                        arguments: StatementArguments(part))
                    {
                        byRequest[Key(id: row["request_id"], time: row["time"]), default: []].append(
                            BackendCallRecord(
                                name: row["name"], target: row["target"], status: row["status"],
                                milliseconds: row["ms"], error: row["error"],
                                spanID: row["span_id"], cache: row["cache"]))
                    }
                }
                for index in calls.indices {
                    calls[index].backends =
                        byRequest[Key(id: calls[index].requestID, time: calls[index].time.timeIntervalSince1970)] ?? []
                }
            }
            return calls
        }
    }
}

extension CallRecord {
    init(row: Row) {
        self.init(
            time: Date(timeIntervalSince1970: row["time"]), requestID: row["request_id"], method: row["method"],
            path: row["path"], api: row["api"], version: row["version"], consumer: row["consumer"], route: row["route"],
            status: row["status"], bytesIn: row["bytes_in"], bytesOut: row["bytes_out"],
            totalMilliseconds: row["total_ms"],
            upstreamMilliseconds: row["upstream_ms"], target: row["target"], clientAddress: row["client"],
            error: row["error"], retries: row["retries"])
        keyPrefix = row["key_prefix"]
        rateLimit = row["rate_limit"]
        cache = row["cache"]
        traceID = row["trace_id"]
        mirror = row["mirror"]
        protocolVersion = row["protocol"]
        validation = row["validation"]
    }

    /// The CSV header row matching `csvLine`.
    package static let csvHeader =
        "time,request_id,method,path,api,version,consumer,route,status,bytes_in,bytes_out,total_ms,upstream_ms,target,client,error,retries,key_prefix,rate_limit,cache,trace_id,mirror,protocol,validation"

    /// One RFC 4180 CSV row.
    package var csvLine: String {
        let fields: [String] = [
            CallRecord.timestamp(time), requestID, method, path, api ?? "", version ?? "", consumer ?? "", route ?? "",
            String(status), String(bytesIn), String(bytesOut), CallRecord.format(totalMilliseconds),
            upstreamMilliseconds.map(CallRecord.format) ?? "", target ?? "", clientAddress ?? "", error ?? "",
            String(retries),
            keyPrefix ?? "", rateLimit ?? "", cache ?? "", traceID ?? "", mirror ?? "", protocolVersion ?? "",
            validation ?? "",
        ]
        return fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
