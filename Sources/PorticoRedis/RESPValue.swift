import NIOCore

/// A value of the Redis serialisation protocol, RESP3 (with RESP2's five types among them).
///
/// Blob strings stay bytes: Redis keys and values are binary. Maps keep their pairs in order.
package enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status line.
    case simpleString(String)
    /// `-ERR …` or `!<len>`: an error reply, with its code first (`NOSCRIPT`, `WRONGPASS`, …).
    case error(String)
    case integer(Int64)
    /// `$<len>`: bytes.
    case blobString([UInt8])
    /// `$-1`, `*-1` (RESP2) or `_` (RESP3).
    case null
    case double(Double)
    case boolean(Bool)
    /// `(`: an integer too large for 64 bits, as its decimal text.
    case bigNumber(String)
    /// `=<len>`: text with a three-letter format (`txt`, `mkd`) before a colon; kept whole.
    case verbatimString(String)
    case array([RESPValue])
    case set([RESPValue])
    /// Key and value pairs, in the order the server sent them.
    case map([Pair])
    /// `>`: an out-of-band message (pub/sub, client tracking), never the reply to a command.
    case push([RESPValue])

    package struct Pair: Sendable, Hashable {
        package var key: RESPValue
        package var value: RESPValue

        package init(key: RESPValue, value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value as text, for the types that carry text or a number.
    package var string: String? {
        switch self {
        case .simpleString(let text), .verbatimString(let text), .bigNumber(let text): return text
        case .blobString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return String(value)
        case .double(let value): return String(value)
        default: return nil
        }
    }

    /// The value as an integer: an integer reply, or a string that holds one.
    package var int64: Int64? {
        switch self {
        case .integer(let value): return value
        case .simpleString, .blobString, .bigNumber: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The elements of an array, set or push.
    package var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        default: return nil
        }
    }
}
