import HTTPTypes
import Hummingbird
import PorticoConfig

/// Connection-specific headers that a proxy must not forward (RFC 9110 section 7.6.1).
enum HopByHop {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!

    static let names: [HTTPField.Name] = [
        "Connection", "Proxy-Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade", "Trailer",
        "Proxy-Authorization", "Proxy-Authenticate",
    ].compactMap { HTTPField.Name($0) }

    /// The canonical (lowercase) names, for one pass over a head's fields.
    static let canonicalNames: [String] = names.map(\.canonicalName)

    /// Whether `name` is one of `names`: its length first (most fields have another), then the names.
    @inline(__always)
    static func isFixed(_ name: HTTPField.Name) -> Bool {
        switch name.canonicalName.utf8.count {
        case 2, 7, 10, 16, 17, 18, 19: return canonicalNames.contains(name.canonicalName)
        default: return false
        }
    }

    /// Removes the fixed hop-by-hop headers and every header that `Connection` names.
    static func strip(_ fields: inout HTTPFields) {
        // The common head has none (the HTTP/1.1 parsers drop `Connection: keep-alive` and the
        // framing fields they consumed): find out in one pass, without making strings, and leave
        // the fields untouched when there is nothing to do.
        var found = false
        var namesOthers = false
        for field in fields where isFixed(field.name) {
            found = true
            if field.name == .connection, !isOnlyOptions(field.value) { namesOthers = true }
        }
        guard found else { return }
        var named: [HTTPField.Name] = []
        if namesOthers {
            for value in fields[values: .connection] {
                for token in value.split(separator: ",") {
                    let name = token.withoutSurroundingWhitespace
                    // keep-alive and close are options, not header names, except Keep-Alive itself (already removed).
                    if isOption(name) { continue }
                    if let field = HTTPField.Name(String(name)) { named.append(field) }
                }
            }
        }
        // One pass that removes them all, rather than a search of the fields per name.
        fields.removeAll { field in isFixed(field.name) || named.contains(field.name) }
    }

    /// Whether the `Connection` values hold `token` (ASCII case-insensitive), without making strings.
    static func connection(_ values: [String], has token: String) -> Bool {
        values.contains { value in
            value.split(separator: ",").contains {
                asciiCaseInsensitiveEquals($0.withoutSurroundingWhitespace.utf8, token.utf8)
            }
        }
    }

    /// Whether a `Connection` value lists only `close` and `keep-alive`.
    static func isOnlyOptions(_ value: String) -> Bool {
        value.split(separator: ",").allSatisfy { isOption($0.withoutSurroundingWhitespace) }
    }

    private static func isOption(_ token: Substring) -> Bool {
        let utf8 = token.utf8
        return asciiCaseInsensitiveEquals(utf8, "close".utf8) || asciiCaseInsensitiveEquals(utf8, "keep-alive".utf8)
    }

    /// Compares ASCII case-insensitively, byte by byte.
    static func asciiCaseInsensitiveEquals(_ lhs: Substring.UTF8View, _ rhs: String.UTF8View) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (left, right) in zip(lhs, rhs) where lowercased(left) != lowercased(right) { return false }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
