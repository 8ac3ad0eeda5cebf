/// Why a Redis command did not get its answer.
package struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case server(String)
        case protocolViolation(String)
        case connectionClosed
        case unavailable(String)
        case timeout
        case badURL(String)
        case handshake(String)
    }

    private let code: Code

    /// The server answered the command with an error reply (`ERR …`, `NOSCRIPT …`).
    package static func server(_ message: String) -> RedisError { RedisError(code: .server(message)) }
    /// The server sent bytes that are not RESP, or a value past the decoder's limits.
    package static func protocolViolation(_ detail: String) -> RedisError {
        RedisError(code: .protocolViolation(detail))
    }
    /// The connection closed before the answer came.
    package static let connectionClosed = RedisError(code: .connectionClosed)
    /// No connection is up; the client is reconnecting (the reason is the last failure).
    package static func unavailable(_ reason: String) -> RedisError { RedisError(code: .unavailable(reason)) }
    /// No answer within the command timeout.
    package static let timeout = RedisError(code: .timeout)
    package static func badURL(_ detail: String) -> RedisError { RedisError(code: .badURL(detail)) }
    /// `HELLO`, `AUTH` or `SELECT` was refused.
    package static func handshake(_ detail: String) -> RedisError { RedisError(code: .handshake(detail)) }

    /// The server's error message, for an error reply.
    package var serverMessage: String? {
        if case .server(let message) = code { return message }
        return nil
    }

    package var description: String {
        switch code {
        case .server(let message): return "Redis answered: \(message)"
        case .protocolViolation(let detail): return "Redis sent \(detail)"
        case .connectionClosed: return "the Redis connection closed"
        case .unavailable(let reason): return "Redis is unavailable (\(reason))"
        case .timeout: return "Redis did not answer in time"
        case .badURL(let detail): return "bad Redis URL: \(detail)"
        case .handshake(let detail): return "Redis refused the connection: \(detail)"
        }
    }
}
