import Foundation
import Hummingbird
import HummingbirdCore
import PorticoConfig
import PorticoStore

/// The query parameters shared by the analytics endpoints and the CLI.
package struct AnalyticsQuery: Sendable {
    package var values: [String: String]
    package var now: Date

    package init(_ values: [String: String], now: Date = Date()) {
        self.values = values
        self.now = now
    }

    package init(_ parameters: FlatDictionary<Substring, Substring>) {
        var values: [String: String] = [:]
        for (key, value) in parameters { values[String(key)] = String(value) }
        self.init(values)
    }

    /// The time range: `from`/`to` (RFC 3339 or Unix seconds), or `since` (a duration back from now; default 1h).
    package func range() throws -> (from: Date, to: Date) {
        let to = try values["to"].map(date) ?? now
        if let from = try values["from"].map(date) { return (from, to) }
        let since = try duration("since") ?? .seconds(3600)
        return (to.addingTimeInterval(-since.seconds), to)
    }

    package func filter() throws -> AnalyticsFilter {
        let (from, to) = try range()
        var filter = AnalyticsFilter(
            from: from, to: to, api: values["api"], version: values["version"], route: values["route"],
            consumer: values["consumer"])
        if let status = values["status"] {
            guard let statusClass = Self.statusClass(status) else {
                throw GatewayError.badRequest("status must be a class like 5xx here.")
            }
            filter.statusClass = statusClass
        }
        return filter
    }

    package func search() throws -> CallSearch {
        var search = CallSearch()
        search.requestID = values["request_id"]
        search.consumer = values["consumer"]
        search.route = values["route"]
        search.api = values["api"]
        if values["from"] != nil || values["since"] != nil || values["to"] != nil {
            let range = try range()
            search.from = range.from
            search.to = range.to
        }
        if let status = values["status"] {
            if let statusClass = Self.statusClass(status) {
                search.statusClass = statusClass
            } else if let exact = Int(status), (100...599).contains(exact) {
                search.status = exact
            } else {
                throw GatewayError.badRequest("status must be a status like 503 or a class like 5xx.")
            }
        }
        if let text = values["min_ms"] {
            guard let value = Double(text), value.isFinite, (0...Self.maximumMilliseconds).contains(value) else {
                throw GatewayError.badRequest("min_ms must be a number of milliseconds from 0 to 86400000.")
            }
            search.minMilliseconds = value
        }
        search.limit = try int("limit", in: 1...Self.maximumLimit) ?? 100
        search.offset = try int("offset", in: 0...Self.maximumOffset) ?? 0
        return search
    }

    /// The most rows one search returns, the most it may skip, and the largest `min_ms`.
    package static let maximumLimit = 10_000
    package static let maximumOffset = 1_000_000_000
    static let maximumMilliseconds = 86_400_000.0
    /// Times are accepted from 1970 to the end of 9999, as RFC 3339 or Unix seconds.
    package static let latestSeconds = 253_402_300_799.0

    /// A whole number within `range` (by default 0 to a billion); 400 for anything else.
    package func int(_ name: String, in range: ClosedRange<Int> = 0...1_000_000_000) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard text.utf8.count <= 19, let value = Int(text), range.contains(value) else {
            throw GatewayError.badRequest(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }

    package func duration(_ name: String) throws -> ConfigDuration? {
        guard let text = values[name] else { return nil }
        guard let value = ConfigDuration(parsing: text), value.milliseconds > 0 else {
            throw GatewayError.badRequest("\(name) must be a duration like 15m, 1h or 7d, at most 100 years.")
        }
        return value
    }

    private func date(_ text: String) throws -> Date {
        if let seconds = Double(text) {
            guard seconds.isFinite, (0...Self.latestSeconds).contains(seconds) else {
                throw GatewayError.badRequest(
                    "'\(text)' is out of range: times run from 0 to 253402300799 (the end of 9999).")
            }
            return Date(timeIntervalSince1970: seconds)
        }
        if text.utf8.count <= 64, let date = LifecycleConfig.parseDate(text) {
            // No call is older than 1970 or newer than 9999: a time outside asks for the same calls as that end.
            return Date(timeIntervalSince1970: min(max(date.timeIntervalSince1970, 0), Self.latestSeconds))
        }
        throw GatewayError.badRequest("'\(text)' is not a time (use RFC 3339 or Unix seconds).")
    }

    static func statusClass(_ text: String) -> Int? {
        guard text.count == 3, text.lowercased().hasSuffix("xx"), let digit = Int(text.prefix(1)),
            (1...5).contains(digit)
        else {
            return nil
        }
        return digit
    }
}
