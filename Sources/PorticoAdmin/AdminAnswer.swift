internal import Foundation
internal import OpenAPIRuntime
import PorticoStore

/// Turns an answer the gateway renders as JSON text (the status, the call log, a key) into the
/// generated type of its schema, so that every answer is checked against `openapi.yaml` before it
/// is sent: a field the document does not allow, or a missing required one, fails here as a 500
/// that names it, never as a silently wrong answer.
enum AdminAnswer {
    /// Times as the document gives them (RFC 3339), with or without fractional seconds.
    static let dates: any DateTranscoder = ISO8601Dates()

    static func decode<Value: Decodable>(_ text: String, as type: Value.Type = Value.self) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try dates.decode(text)
        }
        return try decoder.decode(Value.self, from: Data(text.utf8))
    }
}

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
