import HTTPTypes
import Hummingbird

/// Connection-specific headers that a proxy must not forward (RFC 9110 section 7.6.1).
enum HopByHop {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!

    static let names: [HTTPField.Name] = [
        "Connection", "Proxy-Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade", "Trailer",
        "Proxy-Authorization", "Proxy-Authenticate",
    ].compactMap { HTTPField.Name($0) }

    /// Removes the fixed hop-by-hop headers and every header that `Connection` names.
    static func strip(_ fields: inout HTTPFields) {
        var named: [HTTPField.Name] = []
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                let trimmed = token.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
                let name = String(trimmed)
                // keep-alive and close are options, not header names, except Keep-Alive itself (already removed).
                if name.lowercased() == "close" || name.lowercased() == "keep-alive" { continue }
                if let field = HTTPField.Name(name) { named.append(field) }
            }
        }
        for name in names where fields.contains(name) { fields[name] = nil }
        for name in named { fields[name] = nil }
    }
}
