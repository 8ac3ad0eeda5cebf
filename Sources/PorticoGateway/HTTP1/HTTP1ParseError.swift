/// Why bytes are not an HTTP/1.1 message (RFC 9112), with the status a server answers a client
/// with. Every error ends the connection: after a malformed message, where the next one starts
/// is unknown.
struct HTTP1ParseError: Error, Equatable, CustomStringConvertible {
    /// 400, 431 (the head is too large), 501 (a transfer coding other than chunked) or 505.
    let status: Int
    let detail: String

    static func malformed(_ detail: String) -> HTTP1ParseError { .init(status: 400, detail: detail) }
    static func headTooLarge(_ detail: String) -> HTTP1ParseError { .init(status: 431, detail: detail) }
    static let unsupportedCoding = HTTP1ParseError(
        status: 501, detail: "Transfer-Encoding other than chunked is not supported.")
    static let unsupportedVersion = HTTP1ParseError(status: 505, detail: "Only HTTP/1.0 and HTTP/1.1 are spoken here.")
    /// The body ended (the connection closed) before its declared length or its last chunk.
    static let truncated = HTTP1ParseError.malformed("The message body was cut off.")

    var description: String { "\(status): \(detail)" }
}
