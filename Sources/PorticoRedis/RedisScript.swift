import Crypto

/// A Lua script run by `EVALSHA`, by its SHA-1, so that the script's text crosses the network
/// only when the server does not have it yet (the first time, and after `SCRIPT FLUSH` or a
/// restart: the `NOSCRIPT` reply).
package struct RedisScript: Sendable, Hashable {
    package let source: String
    /// The hex SHA-1 of `source`, as Redis names scripts.
    package let sha1: String

    package init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
