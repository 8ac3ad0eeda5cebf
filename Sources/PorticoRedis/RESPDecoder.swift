import NIOCore

/// Reads RESP2 and RESP3 replies from a byte stream, one whole value at a time.
///
/// A server is trusted with the data but not with the sizes: a line, a blob, an aggregate's
/// element count and the nesting depth are bounded, and a reply past a bound closes the
/// connection (`RedisError.protocolViolation`). Attributes (`|`) are read and dropped, as
/// RESP3 lets a client do.
package struct RESPDecoder: ByteToMessageDecoder {
    package typealias InboundOut = RESPValue

    package struct Limits: Sendable {
        /// The longest simple line (status, error, number).
        package var maximumLineBytes = 64 * 1024
        /// The longest blob string.
        package var maximumBlobBytes = 64 * 1024 * 1024
        /// The most elements of one array, set or map.
        package var maximumElements = 1_048_576
        package var maximumDepth = 32

        package init() {}
    }

    let limits: Limits

    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try Self.read(from: &buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    package mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// One whole value from the front of `buffer`, consumed; nil (and nothing consumed) when
    /// the value has not fully arrived.
    package static func read(from buffer: inout ByteBuffer, limits: Limits = Limits()) throws -> RESPValue? {
        var view = buffer
        guard let value = try parse(&view, limits: limits, depth: 0) else { return nil }
        buffer = view
        return value
    }

    private static let cr = UInt8(ascii: "\r")

    private static func parse(_ buffer: inout ByteBuffer, limits: Limits, depth: Int) throws -> RESPValue? {
        guard depth <= limits.maximumDepth else {
            throw RedisError.protocolViolation("a reply nested deeper than \(limits.maximumDepth)")
        }
        guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: 1)
        guard let line = try readLine(&rest, limits: limits) else { return nil }
        let value: RESPValue
        switch marker {
        case UInt8(ascii: "+"): value = .simpleString(line)
        case UInt8(ascii: "-"): value = .error(line)
        case UInt8(ascii: ":"): value = .integer(try integer(line))
        case UInt8(ascii: "_"): value = .null
        case UInt8(ascii: "#"):
            guard line == "t" || line == "f" else {
                throw RedisError.protocolViolation("a boolean reply '\(line.prefix(20))'")
            }
            value = .boolean(line == "t")
        case UInt8(ascii: ","):
            guard let number = Double(line) ?? (line == "inf" ? .infinity : line == "-inf" ? -.infinity : nil) else {
                throw RedisError.protocolViolation("a double reply '\(line.prefix(20))'")
            }
            value = .double(number)
        case UInt8(ascii: "("):
            guard
                line.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                )
            else {
                throw RedisError.protocolViolation("a big number reply '\(line.prefix(20))'")
            }
            value = .bigNumber(line)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try integer(line)
            if length == -1, marker == UInt8(ascii: "$") {
                value = .null
                break
            }
            guard length >= 0, length <= limits.maximumBlobBytes else {
                throw RedisError.protocolViolation("a blob of \(length) bytes (at most \(limits.maximumBlobBytes))")
            }
            guard rest.readableBytes >= Int(length) + 2 else { return nil }
            let bytes = rest.readBytes(length: Int(length))!
            guard rest.readInteger(as: UInt16.self) == 0x0D0A else {
                throw RedisError.protocolViolation("a blob not ended by CRLF")
            }
            switch marker {
            case UInt8(ascii: "$"): value = .blobString(bytes)
            case UInt8(ascii: "!"): value = .error(String(decoding: bytes, as: UTF8.self))
            default: value = .verbatimString(String(decoding: bytes, as: UTF8.self))
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(line)
            if count == -1, marker == UInt8(ascii: "*") {
                value = .null
                break
            }
            let isMap = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|")
            // A map's pairs count twice.
            guard count >= 0, count <= limits.maximumElements / (isMap ? 2 : 1) else {
                throw RedisError.protocolViolation(
                    "an aggregate of \(count) elements (at most \(limits.maximumElements))")
            }
            let total = isMap ? Int(count) * 2 : Int(count)
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(total, 1024))
            for _ in 0..<total {
                guard let element = try parse(&rest, limits: limits, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            switch marker {
            case UInt8(ascii: "*"): value = .array(elements)
            case UInt8(ascii: "~"): value = .set(elements)
            case UInt8(ascii: ">"): value = .push(elements)
            case UInt8(ascii: "%"):
                value = .map(
                    stride(from: 0, to: elements.count, by: 2).map {
                        RESPValue.Pair(key: elements[$0], value: elements[$0 + 1])
                    })
            default:
                // An attribute describes the value that follows it; the value is the reply.
                guard let described = try parse(&rest, limits: limits, depth: depth + 1) else { return nil }
                value = described
            }
        default:
            throw RedisError.protocolViolation("an unknown reply type byte \(marker)")
        }
        buffer = rest
        return value
    }

    /// The text up to CRLF, consumed with it; nil when the CRLF has not arrived.
    private static func readLine(_ buffer: inout ByteBuffer, limits: Limits) throws -> String? {
        let view = buffer.readableBytesView
        guard let end = view.firstIndex(of: cr) else {
            if view.count > limits.maximumLineBytes {
                throw RedisError.protocolViolation("a line longer than \(limits.maximumLineBytes) bytes")
            }
            return nil
        }
        let length = end - view.startIndex
        guard length <= limits.maximumLineBytes else {
            throw RedisError.protocolViolation("a line longer than \(limits.maximumLineBytes) bytes")
        }
        guard buffer.readableBytes >= length + 2 else { return nil }
        let text = buffer.readString(length: length)!
        guard buffer.readInteger(as: UInt8.self) == 0x0D, buffer.readInteger(as: UInt8.self) == 0x0A else {
            throw RedisError.protocolViolation("a line not ended by CRLF")
        }
        return text
    }

    private static func integer(_ line: String) throws -> Int64 {
        guard let value = Int64(line) else { throw RedisError.protocolViolation("a number '\(line.prefix(24))'") }
        return value
    }
}
