import HTTPTypes
import NIOCore

/// Encodes one client connection's responses as HTTP/1.1 bytes, straight from HTTPTypes: the
/// event-loop path's own answers and those the streaming path writes, in the order they leave.
///
/// It replaces NIO's response encoder and the HTTPTypes-to-HTTP/1 conversion on the client
/// channel (one handler that owns the framing, instead of three that pass every part along).
/// HTTPTypes has validated every field name and value already, so they are written as they are.
///
/// Framing follows RFC 9112 §6: no body for a response to `HEAD` and for 1xx, 204 and 304
/// (a body part written for one is dropped); `Content-Length` when the head has one;
/// otherwise chunked, with `Transfer-Encoding: chunked` added, empty parts skipped (an empty
/// chunk would end the body) and trailers after the last chunk.
struct HTTP1ResponseEncoder {
    enum Framing: Equatable {
        /// Between responses, or after an informational one.
        case none
        /// The head said how long the body is; parts go as they are.
        case length
        case chunked
        /// This response has no body; parts written for it are dropped.
        case bodyless
    }

    private(set) var framing = Framing.none

    /// Writes `head` into `buffer`. `answersHead`: the request was `HEAD`.
    /// Returns whether this is the final head of the response (1xx heads are not).
    mutating func encode(head: HTTPResponse, answersHead: Bool, into buffer: inout ByteBuffer) -> Bool {
        let code = head.status.code
        let informational = code < 200 && code != 101
        let fieldsBare = code < 200 || code == 204
        buffer.writeStaticString("HTTP/1.1 ")
        Self.writeStatusCode(code, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(head.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        // A head with both framings is chunked (RFC 9112 §6.3): its length is not sent.
        let chunked = !fieldsBare && head.headerFields[.transferEncoding] != nil
        var hasLength = false
        for field in head.headerFields {
            if field.name == .contentLength {
                if fieldsBare || chunked { continue }
                hasLength = true
            } else if field.name == .transferEncoding, fieldsBare {
                continue
            }
            Self.write(field, into: &buffer)
        }
        if informational {
            buffer.writeStaticString("\r\n")
            framing = .none
            return false
        }
        if answersHead || code == 204 || code == 304 || code == 101 {
            framing = .bodyless
        } else if chunked {
            framing = .chunked
        } else if hasLength {
            framing = .length
        } else {
            buffer.writeStaticString("transfer-encoding: chunked\r\n")
            framing = .chunked
        }
        buffer.writeStaticString("\r\n")
        return true
    }

    /// What to write for a body part: the part itself, framed, or nothing.
    enum BodyBytes {
        case asIs(ByteBuffer)
        /// A chunk: its size line, the part, and the line's end.
        case chunk(size: ByteBuffer, part: ByteBuffer)
        case nothing
    }

    func encode(body part: ByteBuffer, allocator: ByteBufferAllocator) -> BodyBytes {
        switch framing {
        case .length:
            return .asIs(part)
        case .chunked:
            guard part.readableBytes > 0 else { return .nothing }
            var size = allocator.buffer(capacity: 12)
            size.writeString(String(part.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            return .chunk(size: size, part: part)
        case .none, .bodyless:
            return .nothing
        }
    }

    /// The bytes that end the response (the last chunk and trailers, when chunked), else nil.
    mutating func encodeEnd(trailers: HTTPFields?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        defer { framing = .none }
        guard framing == .chunked else { return nil }
        var buffer = allocator.buffer(capacity: 64)
        // The CRLF closing the last chunk's data (none after a size line of 0), then the last chunk.
        buffer.writeStaticString("0\r\n")
        if let trailers {
            for field in trailers { Self.write(field, into: &buffer) }
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The CRLF after a chunk's data.
    static let chunkEnd = ByteBuffer(string: "\r\n")
    /// No bytes: carries a promise that must complete after the writes before it. Shared, so
    /// that a response with a length costs no buffer for its end.
    static let nothing = ByteBuffer()

    /// One field line, as it is: HTTPTypes validated the name and the value when they were made.
    static func write(_ field: HTTPField, into buffer: inout ByteBuffer) {
        buffer.writeString(field.name.rawName)
        buffer.writeStaticString(": ")
        buffer.writeString(field.value)
        buffer.writeStaticString("\r\n")
    }

    private static func writeStatusCode(_ code: Int, into buffer: inout ByteBuffer) {
        // HTTPTypes keeps codes within 0...999; three digits each.
        let code = min(max(code, 0), 999)
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
    }
}
