import Foundation
import OpenAPIRuntime
import PorticoStore

/// Turns an answer the gateway renders as JSON text (the status, the call log, a rendered docs
/// page) into the generated type of its schema, so that every answer is checked against its
/// document before it is sent: a field the document does not allow, or a missing required one,
/// fails here as a 500 that names it, never as a silently wrong answer.
package enum GeneratedAnswer {
    /// Times as the documents give them (RFC 3339), with or without fractional seconds.
    package static let dates: any DateTranscoder = ISO8601Dates()

    /// The encoding both servers use: RFC 3339 times, keys sorted.
    package static var configuration: Configuration {
        Configuration(dateTranscoder: dates, jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
    }

    package static func decode<Value: Decodable>(_ text: String, as type: Value.Type = Value.self) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try dates.decode(text)
        }
        return try decoder.decode(Value.self, from: Data(text.utf8))
    }
}
