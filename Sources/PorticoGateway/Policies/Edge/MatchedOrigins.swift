import HTTPTypes
import Synchronization

/// The answer fields of origins a wildcard or a regular expression allowed lately, so an app's
/// origin is matched once, not on every request. Bounded: at most 256 origins of at most 512
/// bytes each (longer ones are never allowed); when full it starts again, so a client sending
/// many origins only costs itself the match.
final class MatchedOrigins: Sendable {
    private let table = Mutex<[String: [HTTPField]]>([:])
    static let capacity = 256

    func fields(for origin: String) -> [HTTPField]? {
        table.withLock { $0[origin] }
    }

    func keep(_ fields: [HTTPField], for origin: String) {
        table.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[origin] = fields
        }
    }
}
