import ArgumentParser
import Foundation
import Logging
import PorticoAdmin
import PorticoApp
import PorticoConfig
import PorticoGateway
import PorticoStore

/// `portico analytics`: usage from the store's rollups, as a table.
struct Analytics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show usage from the call store: a time series, or a breakdown with --by.",
        discussion: "Reads the SQLite store named by the config directly, so it works while the gateway runs."
    )

    @Option(name: .shortAndLong, help: "The gateway config file (for the store's path).")
    var config: String = "config/gateway.yaml"

    @Option(help: "How far back to look, like 15m, 1h or 7d.")
    var since: String = "1h"

    @Option(help: "Break usage down by route, consumer, status, version or api.")
    var by: String?

    @Option(help: "The time bucket of the series, like 1m or 1h (default: 1m up to 6h, else 1h).")
    var bucket: String?

    @Option(help: "Rows in a breakdown.")
    var limit: Int = 10

    func run() async throws {
        var values = ["since": since]
        if let bucket { values["bucket"] = bucket }
        let query = AnalyticsQuery(values)
        let filter = try validated { try query.filter() }
        if let by {
            guard let dimension = UsageDimension(rawValue: by == "status" ? "status_class" : by) else {
                throw ValidationError("--by must be route, consumer, status, version or api")
            }
            let found = try await withStore(config) { try await $0.top(dimension, filter, limit: limit) }
            let rows = found.map { row in [row.key.isEmpty ? "-" : row.key] + numbers(row) }
            printTable(header: [by, "calls", "errors", "p50 ms", "p95 ms", "p99 ms"], rows: rows)
        } else {
            let span = filter.to.timeIntervalSince(filter.from)
            let size = try validated { try query.duration("bucket") }?.seconds ?? (span <= 6 * 3600 ? 60 : 3600)
            let points = try await withStore(config) { try await $0.timeSeries(filter, bucketSeconds: Int(size)) }
            let rows = points.map { point in [CallRecord.timestamp(point.time ?? filter.from)] + numbers(point) }
            printTable(header: ["time", "calls", "errors", "p50 ms", "p95 ms", "p99 ms"], rows: rows)
        }
    }

    private func numbers(_ row: UsageSummary) -> [String] {
        func milliseconds(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        return [
            String(row.count), String(row.errors), milliseconds(row.p50), milliseconds(row.p95), milliseconds(row.p99),
        ]
    }
}

/// `portico logs`: matching calls from the call log, newest first.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print calls from the call store, newest first, one JSON line each.",
        discussion: "Reads the SQLite store named by the config directly, so it works while the gateway runs."
    )

    @Option(name: .shortAndLong, help: "The gateway config file (for the store's path).")
    var config: String = "config/gateway.yaml"

    @Option(help: "A status like 503, or a class like 5xx.")
    var status: String?

    @Option(help: "How far back to look, like 10m or 1h.")
    var since: String = "1h"

    @Option(help: "Only this route.")
    var route: String?

    @Option(help: "Only this request id.")
    var requestID: String?

    @Option(help: "Only calls that took at least this many milliseconds.")
    var minMs: Double?

    @Option(help: "At most this many calls.")
    var limit: Int = 50

    func run() async throws {
        var values = ["since": since, "limit": String(limit)]
        if let status { values["status"] = status }
        if let route { values["route"] = route }
        if let requestID { values["request_id"] = requestID }
        if let minMs { values["min_ms"] = String(minMs) }
        let search = try validated { try AnalyticsQuery(values).search() }
        for call in try await withStore(config, { try await $0.searchCalls(search) }) { print(call.jsonLine) }
    }
}

/// Runs `body` with the store named by a config file, opened for it and closed after.
func withStore<T: Sendable>(_ configFile: String, _ body: @Sendable (any DataStore) async throws -> T) async throws -> T
{
    let config: GatewayConfig
    do {
        config = try ConfigLoader().load(file: configFile)
    } catch {
        throw ValidationError(error.description)
    }
    return try await DataStores.with(config.store, logger: Logger(label: "portico.cli"), body)
}

/// Turns a bad query parameter into a usage error.
func validated<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw ValidationError("\(error)")
    }
}

func printTable(header: [String], rows: [[String]], empty: String = "(no calls in this range)") {
    let table = [header] + rows
    let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
    for row in table {
        let cells = row.enumerated().map { index, cell in
            index == 0
                ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[index] - cell.count) + cell
        }
        print(cells.joined(separator: "  "))
    }
    if rows.isEmpty { print(empty) }
}
