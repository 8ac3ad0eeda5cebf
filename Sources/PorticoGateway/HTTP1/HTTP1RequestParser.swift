import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Parses the requests a client sends on one HTTP/1.1 connection (RFC 9112), straight into
/// HTTPTypes: one pass over the head's bytes, no intermediate header list, no URL parser.
///
/// Strict where leniency lets two parsers disagree about where a message ends (request
/// smuggling): CRLF line ends only, no whitespace before a colon or folded lines, one `Host`,
/// `Content-Length` digits only (repeats must agree), `Transfer-Encoding` only `chunked` and
/// never beside `Content-Length`. Every limit is checked before the bytes are used.
///
/// After a request that asks for an upgrade (or `CONNECT`) nothing more is parsed: what follows
/// belongs to the new protocol, and stays in the buffer for whoever takes the connection.
struct HTTP1RequestParser {
    struct Head {
        var request: HTTPRequest
        /// `HTTP/1.<minor>`: 0 or 1.
        var minorVersion: Int
        /// The client lets the connection stay open after this request.
        var keepAlive: Bool
        /// `close` is among `Connection`'s options.
        var connectionClose: Bool
        /// `Upgrade` with `upgrade` among `Connection`'s options, or `CONNECT`.
        var upgrade: Bool
        /// The body's length, when `Content-Length` gave it; nil for chunked and for no body.
        var contentLength: Int?
        var chunked: Bool
    }

    enum Event {
        case head(Head)
        case body(ByteBuffer)
        case end(HTTPFields?)

        /// The part as the streaming path takes it.
        var part: HTTPRequestPart {
            switch self {
            case .head(let head): .head(head.request)
            case .body(let bytes): .body(bytes)
            case .end(let trailers): .end(trailers)
            }
        }
    }

    private enum State {
        case head(HTTP1HeadScanner)
        case body(HTTP1BodyDecoder, stopAfter: Bool)
        /// After an upgrade request: the rest is not HTTP/1.1.
        case stopped
        case failed
    }

    let secure: Bool
    let limits: HTTP1FieldLines.Limits
    private var state: State

    init(secure: Bool, limits: HTTP1FieldLines.Limits) {
        self.secure = secure
        self.limits = limits
        // The request line may be as long as a field line; the fields add their own limit.
        state = .head(HTTP1HeadScanner(limit: limits.fieldSize + limits.listSize + 4))
    }

    /// Between requests: nothing of the next one has been parsed.
    var isBetweenMessages: Bool {
        if case .head = state { return true }
        return false
    }

    /// An upgrade request was parsed whole: the bytes after it are another protocol's.
    var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    /// The next event from `buffer`'s readable bytes (which it consumes), or nil for more bytes.
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        do {
            switch state {
            case .head(var scanner):
                // RFC 9112 §2.2: empty lines before a request line are ignored.
                while buffer.readableBytes >= 2,
                    buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == UInt16(HTTP1Syntax.cr) << 8
                        | UInt16(HTTP1Syntax.lf)
                {
                    buffer.moveReaderIndex(forwardBy: 2)
                    scanner.reset()
                }
                guard let length = try scanner.headLength(in: buffer) else {
                    state = .head(scanner)
                    return nil
                }
                let head = try buffer.withUnsafeReadableBytes { bytes throws(HTTP1ParseError) in
                    try parseHead(bytes[0..<length])
                }
                buffer.moveReaderIndex(forwardBy: length)
                let framing: HTTP1BodyDecoder.Framing = head.chunked ? .chunked : .length(head.contentLength ?? 0)
                state = .body(HTTP1BodyDecoder(framing, trailerLimits: limits), stopAfter: head.upgrade)
                return .head(head)
            case .body(var body, let stopAfter):
                let event = try body.next(from: &buffer)
                switch event {
                case .bytes(let bytes):
                    state = .body(body, stopAfter: stopAfter)
                    return .body(bytes)
                case .end(let trailers):
                    state =
                        stopAfter ? .stopped : .head(HTTP1HeadScanner(limit: limits.fieldSize + limits.listSize + 4))
                    return .end(trailers)
                case nil:
                    state = .body(body, stopAfter: stopAfter)
                    return nil
                }
            case .stopped, .failed:
                return nil
            }
        } catch {
            state = .failed
            throw error
        }
    }

    /// The client closed its side with `buffered` bytes unparsed: an error if a request was cut off.
    mutating func inputEnded(buffered: Int) throws(HTTP1ParseError) {
        switch state {
        case .head where buffered > 0:
            state = .failed
            throw .malformed("The request head was cut off.")
        case .body:
            state = .failed
            throw .truncated
        default:
            return
        }
    }

    // MARK: The head

    private func parseHead(_ bytes: UnsafeRawBufferPointer.SubSequence) throws(HTTP1ParseError) -> Head {
        guard let lf = bytes.firstIndex(of: HTTP1Syntax.lf), lf > bytes.startIndex, bytes[lf - 1] == HTTP1Syntax.cr
        else {
            throw .malformed("The request line does not end in CRLF.")
        }
        let line = bytes[bytes.startIndex..<(lf - 1)]
        guard line.count <= limits.fieldSize else {
            throw .headTooLarge("The request line is longer than \(limits.fieldSize) bytes.")
        }
        guard let firstSpace = line.firstIndex(of: HTTP1Syntax.space), firstSpace > line.startIndex else {
            throw .malformed("The request line has no method.")
        }
        let methodBytes = line[line.startIndex..<firstSpace]
        for byte in methodBytes where !HTTP1Syntax.isToken(byte) { throw .malformed("The method is not a token.") }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: HTTP1Syntax.space), secondSpace > rest.startIndex else {
            throw .malformed("The request line has no target.")
        }
        let target = rest[rest.startIndex..<secondSpace]
        for byte in target where !HTTP1Syntax.isTargetByte(byte) {
            throw .malformed("The request target holds a space or a control character.")
        }
        let version = rest[(secondSpace + 1)...]
        let minor = try Self.minorVersion(version)

        var fields = HTTPFields()
        var authority: String?
        var contentLength: Int?
        var transferEncoding = false
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        var hasUpgrade = false
        try HTTP1FieldLines.parse(bytes[(lf + 1)..<(bytes.endIndex - 2)], limits: limits, into: &fields) {
            name, value throws(HTTP1ParseError) in
            switch name {
            case HTTP1FieldNames.host:
                guard authority == nil else { throw .malformed("The request has more than one Host header field.") }
                authority = String(decoding: value, as: UTF8.self)
                return false
            case .contentLength:
                let length = try Self.contentLength(value)
                if let contentLength, contentLength != length { throw .malformed("Content-Length fields disagree.") }
                contentLength = length
            case .transferEncoding:
                // Only `chunked`, once: a coding before it would need decoding, a repeat is an attack.
                guard !transferEncoding, HTTP1Syntax.equalsIgnoringCase(value, "chunked") else {
                    if transferEncoding { throw .malformed("Transfer-Encoding names chunked more than once.") }
                    throw .unsupportedCoding
                }
                transferEncoding = true
                chunked = true
            case .connection:
                var onlyKeepAlive = true
                HTTP1Syntax.forEachItem(value) { token in
                    if HTTP1Syntax.equalsIgnoringCase(token, "keep-alive") {
                        connectionKeepAlive = true
                        return
                    }
                    onlyKeepAlive = false
                    if HTTP1Syntax.equalsIgnoringCase(token, "close") {
                        connectionClose = true
                    } else if HTTP1Syntax.equalsIgnoringCase(token, "upgrade") {
                        connectionUpgrade = true
                    }
                }
                // `keep-alive` alone is this hop's default, read here: nothing after needs it.
                if onlyKeepAlive { return false }
            case HTTP1FieldNames.keepAlive:
                return false
            case .upgrade:
                hasUpgrade = !value.isEmpty
            default:
                break
            }
            return true
        }
        if chunked, contentLength != nil {
            throw .malformed("The request has both Content-Length and Transfer-Encoding.")
        }
        if chunked, minor == 0 { throw .malformed("HTTP/1.0 has no chunked transfer coding.") }
        if minor == 1, authority == nil { throw .malformed("An HTTP/1.1 request must have a Host header field.") }

        let method = Self.method(methodBytes)
        let (path, targetAuthority) = Self.path(target)
        // RFC 9112 §3.2.2: an absolute-form target's authority wins over `Host`.
        var request = HTTPRequest(
            method: method, scheme: secure ? "https" : "http", authority: targetAuthority ?? authority, path: path)
        request.headerFields = fields
        let keepAlive = !connectionClose && (minor == 1 || connectionKeepAlive)
        return Head(
            request: request, minorVersion: minor, keepAlive: keepAlive, connectionClose: connectionClose,
            upgrade: method == .connect || (hasUpgrade && connectionUpgrade),
            contentLength: contentLength, chunked: chunked)
    }

    private static func minorVersion(_ bytes: UnsafeRawBufferPointer.SubSequence) throws(HTTP1ParseError) -> Int {
        // "HTTP/1.1" or "HTTP/1.0"; another "HTTP/d.d" is a version this server does not speak.
        guard bytes.count == 8, bytes.prefix(5).elementsEqual("HTTP/".utf8), bytes[bytes.startIndex + 5] >= 0x30,
            bytes[bytes.startIndex + 5] <= 0x39,
            bytes[bytes.startIndex + 6] == UInt8(ascii: "."),
            bytes[bytes.startIndex + 7] >= 0x30, bytes[bytes.startIndex + 7] <= 0x39
        else { throw .malformed("The request line does not end in an HTTP version.") }
        let major = bytes[bytes.startIndex + 5] - 0x30
        let minor = bytes[bytes.startIndex + 7] - 0x30
        guard major == 1, minor <= 1 else { throw .unsupportedVersion }
        return Int(minor)
    }

    /// `Content-Length`: decimal digits; a list of equal values counts as one (RFC 9110 §8.6).
    private static func contentLength(_ value: UnsafeRawBufferPointer.SubSequence) throws(HTTP1ParseError) -> Int {
        var length: Int?
        try HTTP1Syntax.forEachItem(value, keepingEmpty: true) { item throws(HTTP1ParseError) in
            guard let parsed = HTTP1Syntax.decimal(item) else {
                throw .malformed("Content-Length is not a number of bytes.")
            }
            if let length, length != parsed { throw .malformed("Content-Length lists different lengths.") }
            length = parsed
        }
        guard let length else { throw .malformed("Content-Length is empty.") }
        return length
    }

    private static func method(_ bytes: UnsafeRawBufferPointer.SubSequence) -> HTTPRequest.Method {
        // Methods are case-sensitive (RFC 9110 §9.1): `get` is not GET.
        switch bytes.count {
        case 3 where bytes.elementsEqual("GET".utf8): return .get
        case 3 where bytes.elementsEqual("PUT".utf8): return .put
        case 4 where bytes.elementsEqual("POST".utf8): return .post
        case 4 where bytes.elementsEqual("HEAD".utf8): return .head
        case 5 where bytes.elementsEqual("PATCH".utf8): return .patch
        case 6 where bytes.elementsEqual("DELETE".utf8): return .delete
        case 7 where bytes.elementsEqual("OPTIONS".utf8): return .options
        default:
            // A token, checked: a valid method.
            return HTTPRequest.Method(String(decoding: bytes, as: UTF8.self))!
        }
    }

    /// The path HTTPTypes holds for a request target: origin-form and `*` as they are, the path
    /// and query of an absolute-form target (with its authority), an authority-form target
    /// (CONNECT) as it is.
    private static func path(_ target: UnsafeRawBufferPointer.SubSequence) -> (String, authority: String?) {
        if target.first == UInt8(ascii: "/") { return (String(decoding: target, as: UTF8.self), nil) }
        // absolute-form: scheme "://" authority path-abempty [ "?" query ]
        if let colon = target.firstIndex(of: HTTP1Syntax.colon),
            target[target.startIndex..<colon].allSatisfy({ Self.isSchemeByte($0) }),
            target[colon...].starts(with: "://".utf8)
        {
            let afterScheme = target[(colon + 3)...]
            let end = afterScheme.firstIndex {
                $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
            }
            let authority = String(decoding: afterScheme[..<(end ?? afterScheme.endIndex)], as: UTF8.self)
            guard let end else { return ("/", authority) }
            let tail = String(decoding: target[end...].prefix { $0 != UInt8(ascii: "#") }, as: UTF8.self)
            return (tail.hasPrefix("/") ? tail : "/" + tail, authority.isEmpty ? nil : authority)
        }
        return (String(decoding: target, as: UTF8.self), nil)
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x2B || byte == 0x2D || byte == 0x2E
    }
}
