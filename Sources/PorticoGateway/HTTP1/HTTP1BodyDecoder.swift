import HTTPTypes
import NIOCore

/// The body of one HTTP/1.1 message as its framing says (RFC 9112 §6.3, §7.1): a length, chunks
/// ending in a last chunk and trailers, or everything until the connection closes (responses
/// only). A state machine over bytes: each call takes what it can from the buffer and returns
/// one event. Chunk sizes are parsed with checked arithmetic; chunk lines and trailers are
/// bounded. Body bytes are slices of the buffer read, never copies.
struct HTTP1BodyDecoder {
    enum Framing: Equatable {
        case length(Int)
        case chunked
        /// A response without a length or chunks: the body ends when the connection does.
        case untilClose
    }

    enum Event {
        case bytes(ByteBuffer)
        /// The body is complete; a chunked body's trailers, if it had any.
        case end(HTTPFields?)
    }

    private enum State {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkDataEnd
        case trailers(HTTP1HeadScanner)
        case untilClose
        /// The body's bytes are all out; its end is next.
        case ending
        case done
    }

    /// The longest chunk-size line (size and extensions) taken.
    static let chunkLineLimit = 4096

    private var state: State
    let trailerLimits: HTTP1FieldLines.Limits

    init(_ framing: Framing, trailerLimits: HTTP1FieldLines.Limits) {
        self.trailerLimits = trailerLimits
        switch framing {
        case .length(let length): state = length == 0 ? .ending : .length(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// True once the end was returned.
    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// The next event from `buffer`, or nil when it needs more bytes. The end comes after the
    /// last bytes, and at once for an empty body.
    mutating func next(from buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        while true {
            switch state {
            case .done:
                return nil
            case .ending:
                state = .done
                return .end(nil)
            case .length(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let part = buffer.readSlice(length: count)!
                state = remaining == count ? .ending : .length(remaining: remaining - count)
                return .bytes(part)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .bytes(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state =
                    size == 0
                    ? .trailers(HTTP1HeadScanner(limit: trailerLimits.listSize + 2)) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let part = buffer.readSlice(length: count)!
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .bytes(part)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == UInt16(HTTP1Syntax.cr) << 8 | UInt16(HTTP1Syntax.lf) else {
                    throw .malformed("A chunk's data is not followed by CRLF.")
                }
                state = .chunkSize
            case .trailers(var scanner):
                return try readTrailers(&buffer, scanner: &scanner)
            }
        }
    }

    /// The connection closed: the end of a body that runs until then, else an error if the body
    /// is not complete.
    mutating func inputEnded() throws(HTTP1ParseError) -> Event? {
        switch state {
        case .done: return nil
        case .untilClose, .ending:
            state = .done
            return .end(nil)
        default: throw .truncated
        }
    }

    private mutating func readChunkSize(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Int? {
        let found: (Int, Int)?? = try buffer.withUnsafeReadableBytes { bytes throws(HTTP1ParseError) -> (Int, Int)?? in
            guard let lf = bytes.prefix(Self.chunkLineLimit).firstIndex(of: HTTP1Syntax.lf) else {
                if bytes.count >= Self.chunkLineLimit {
                    throw .malformed("A chunk-size line is longer than \(Self.chunkLineLimit) bytes.")
                }
                return .some(nil)
            }
            guard lf > 0, bytes[lf - 1] == HTTP1Syntax.cr else {
                throw .malformed("A chunk-size line ends in a bare LF.")
            }
            var size = 0
            var digits = 0
            var i = 0
            while i < lf - 1 {
                let byte = bytes[i]
                let value: Int
                switch byte {
                case 0x30...0x39: value = Int(byte - 0x30)
                case 0x41...0x46: value = Int(byte - 0x41 + 10)
                case 0x61...0x66: value = Int(byte - 0x61 + 10)
                default: value = -1
                }
                if value < 0 { break }
                digits += 1
                // 15 hex digits hold any size a body can have; more is an attack or a bug.
                guard digits <= 15 else { throw .malformed("A chunk size is too large.") }
                size = size << 4 | value
                i += 1
            }
            guard digits > 0 else { throw .malformed("A chunk-size line has no size.") }
            // Extensions: `;name[=value]` after optional whitespace; ignored, but only field-value bytes.
            if i < lf - 1 {
                var j = i
                while j < lf - 1, bytes[j] == HTTP1Syntax.space || bytes[j] == HTTP1Syntax.tab { j += 1 }
                guard j < lf - 1, bytes[j] == UInt8(ascii: ";") else {
                    throw .malformed("A chunk size is not hexadecimal.")
                }
                for byte in bytes[j..<(lf - 1)] where !HTTP1Syntax.isFieldValue(byte) {
                    throw .malformed("A chunk extension holds a control character.")
                }
            }
            return .some((size, lf + 1))
        }
        guard let line = found, let (size, length) = line else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        return size
    }

    private mutating func readTrailers(
        _ buffer: inout ByteBuffer, scanner: inout HTTP1HeadScanner
    ) throws(HTTP1ParseError) -> Event? {
        // No trailers: the last chunk is followed by the empty line alone.
        guard buffer.readableBytes >= 2 else {
            state = .trailers(scanner)
            return nil
        }
        if buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == UInt16(HTTP1Syntax.cr) << 8
            | UInt16(HTTP1Syntax.lf)
        {
            buffer.moveReaderIndex(forwardBy: 2)
            state = .done
            return .end(nil)
        }
        guard let length = try scanner.headLength(in: buffer) else {
            state = .trailers(scanner)
            return nil
        }
        var trailers = HTTPFields()
        let limits = trailerLimits
        try buffer.withUnsafeReadableBytes { bytes throws(HTTP1ParseError) in
            try HTTP1FieldLines.parse(bytes[0..<(length - 2)], limits: limits, into: &trailers) {
                name, _ throws(HTTP1ParseError) in
                // Framing and routing fields have no place in trailers (RFC 9110 §6.5.1).
                name != .contentLength && name != .transferEncoding && name != HTTP1FieldNames.host
            }
        }
        buffer.moveReaderIndex(forwardBy: length)
        state = .done
        return .end(trailers)
    }
}
