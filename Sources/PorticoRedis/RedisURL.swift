/// Where a Redis server is and how to sign in: `redis://[user:password@]host[:port][/db]`, or
/// `rediss://` for TLS. A password alone is written `redis://:password@host`.
package struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var user: String?
    package var password: String?
    package var database: Int
    package var tls: Bool

    package init(
        host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0,
        tls: Bool = false
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    package init(parsing text: String) throws {
        let rest: Substring
        if text.hasPrefix("redis://") {
            tls = false
            rest = text.dropFirst(8)
        } else if text.hasPrefix("rediss://") {
            tls = true
            rest = text.dropFirst(9)
        } else {
            throw RedisError.badURL("it must start with redis:// or rediss://")
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = credentials[..<colon]
                user = name.isEmpty ? nil : try Self.unescape(name)
                password = try Self.unescape(credentials[credentials.index(after: colon)...])
            } else {
                // `redis://secret@host` is read as a password, as redis-cli does.
                user = nil
                password = try Self.unescape(credentials)
            }
            if password == "" { password = nil }
        } else {
            user = nil
            password = nil
        }
        var hostPart = authority
        port = 6379
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else {
                throw RedisError.badURL("an IPv6 address without ']'")
            }
            let after = hostPart[hostPart.index(after: close)...]
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisError.badURL("text after the IPv6 address") }
                port = try Self.port(after.dropFirst())
            }
        } else {
            if let colon = hostPart.lastIndex(of: ":") {
                port = try Self.port(hostPart[hostPart.index(after: colon)...])
                hostPart = hostPart[..<colon]
            }
            host = String(hostPart)
        }
        guard !host.isEmpty else { throw RedisError.badURL("no host") }
        let databaseText = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if databaseText.isEmpty {
            database = 0
        } else {
            guard let number = Int(databaseText), (0...1_000_000).contains(number) else {
                throw RedisError.badURL("database '\(databaseText.prefix(20))' is not a number")
            }
            database = number
        }
    }

    private static func port(_ text: Substring) throws -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw RedisError.badURL("port '\(text.prefix(20))'")
        }
        return port
    }

    /// Percent-escapes in the user and password (`%40` for `@`).
    private static func unescape(_ text: Substring) throws -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                    let high = hex(utf8[first]), let low = hex(utf8[utf8.index(after: first)])
                else { throw RedisError.badURL("a bad percent-escape in the credentials") }
                bytes.append(high << 4 | low)
                index = utf8.index(index, offsetBy: 3)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The URL without its password, for logs and `/admin/status`.
    package var description: String {
        let credentials = user.map { "\($0):***@" } ?? (password == nil ? "" : ":***@")
        let address = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "rediss" : "redis")://\(credentials)\(address):\(port)/\(database)"
    }
}
