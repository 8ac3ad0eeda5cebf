import Foundation
import OpenAPIRuntime
import PorticoStore

/// RFC 3339 times: written with milliseconds, read with or without them.
struct ISO8601Dates: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        CallRecord.timestamp(date)
    }

    func decode(_ text: String) throws -> Date {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "'\(text)' is not an RFC 3339 time."))
    }
}
