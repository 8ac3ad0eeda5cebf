import HTTPTypes
import NIOCore

/// Parses the responses a target sends on one kept-alive HTTP/1.1 connection (RFC 9112), straight
/// into HTTPTypes, as strictly as `HTTP1RequestParser` parses requests: a target that frames its
/// answers ambiguously is treated as broken, not guessed at.
///
/// The body's framing follows RFC 9112 §6.3: none for a `HEAD` request and for 1xx, 204 and 304;
/// chunked when `Transfer-Encoding` says so (another coding is refused: its body could not be
/// passed on as it is); otherwise `Content-Length`; otherwise the body runs until the target
/// closes, and the connection is not reused.
///
/// The fields of this hop that it has read (`Transfer-Encoding: chunked`, a `Connection` of
/// options, `Keep-Alive`) are not kept in the head: no response carries them on.
struct HTTP1ResponseParser {
    struct Head {
        var response: HTTPResponse
        /// The connection may carry another request after this response.
        var keepAlive: Bool
    }

    enum Event {
        /// An interim (1xx) response, other than 101.
        case informational(HTTPResponse)
        case head(Head)
        case body(ByteBuffer)
        case end(HTTPFields?)
    }

    private enum State {
        case head(HTTP1HeadScanner)
        case body(HTTP1BodyDecoder)
        case failed
    }

    let limits: HTTP1FieldLines.Limits
    private var state: State
    /// The request being answered is `HEAD`: its response has no body whatever it says.
    var answersHead = false

    init(limits: HTTP1FieldLines.Limits) {
        self.limits = limits
        state = .head(HTTP1HeadScanner(limit: limits.fieldSize + limits.listSize + 4))
    }

    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        do {
            switch state {
            case .head(var scanner):
                guard let length = try scanner.headLength(in: buffer) else {
                    state = .head(scanner)
                    return nil
                }
                let (head, framing) = try buffer.withUnsafeReadableBytes { bytes throws(HTTP1ParseError) in
                    try parseHead(bytes[0..<length])
                }
                buffer.moveReaderIndex(forwardBy: length)
                let code = head.response.status.code
                if code >= 100, code < 200, code != 101 {
                    state = .head(HTTP1HeadScanner(limit: scanner.limit))
                    return .informational(head.response)
                }
                state = .body(HTTP1BodyDecoder(framing, trailerLimits: limits))
                return .head(head)
            case .body(var body):
                let event = try body.next(from: &buffer)
                switch event {
                case .bytes(let bytes):
                    state = .body(body)
                    return .body(bytes)
                case .end(let trailers):
                    state = .head(HTTP1HeadScanner(limit: limits.fieldSize + limits.listSize + 4))
                    return .end(trailers)
                case nil:
                    state = .body(body)
                    return nil
                }
            case .failed:
                return nil
            }
        } catch {
            state = .failed
            throw error
        }
    }

    /// The target closed: the end of a body that runs until then; an error for a cut-off one.
    mutating func inputEnded() throws(HTTP1ParseError) -> Event? {
        guard case .body(var body) = state else { return nil }
        do {
            let event = try body.inputEnded()
            state = .head(HTTP1HeadScanner(limit: limits.fieldSize + limits.listSize + 4))
            if case .end(let trailers) = event { return .end(trailers) }
            return nil
        } catch {
            state = .failed
            throw error
        }
    }

    private func parseHead(
        _ bytes: UnsafeRawBufferPointer.SubSequence
    ) throws(HTTP1ParseError) -> (Head, HTTP1BodyDecoder.Framing) {
        guard let lf = bytes.firstIndex(of: HTTP1Syntax.lf), lf > bytes.startIndex, bytes[lf - 1] == HTTP1Syntax.cr
        else {
            throw .malformed("The status line does not end in CRLF.")
        }
        let line = bytes[bytes.startIndex..<(lf - 1)]
        // "HTTP/1.x SSS reason": the reason may be empty, with or without its space.
        guard line.count >= 12, line.prefix(7).elementsEqual("HTTP/1.".utf8),
            line[line.startIndex + 8] == HTTP1Syntax.space
        else {
            throw .malformed("The status line is not HTTP/1.x.")
        }
        let minorByte = line[line.startIndex + 7]
        guard minorByte == UInt8(ascii: "0") || minorByte == UInt8(ascii: "1") else { throw .unsupportedVersion }
        var code = 0
        for byte in line[(line.startIndex + 9)..<(line.startIndex + 12)] {
            guard byte >= 0x30, byte <= 0x39 else { throw .malformed("The status code is not three digits.") }
            code = code * 10 + Int(byte - 0x30)
        }
        guard code >= 100 else { throw .malformed("The status code is below 100.") }
        var reason = ""
        if line.count > 12 {
            guard line[line.startIndex + 12] == HTTP1Syntax.space else {
                throw .malformed("The status code is not three digits.")
            }
            let reasonBytes = line[(line.startIndex + 13)...]
            for byte in reasonBytes where !HTTP1Syntax.isFieldValue(byte) {
                throw .malformed("The reason phrase holds a control character.")
            }
            reason = String(decoding: reasonBytes, as: UTF8.self)
        }

        var fields = HTTPFields()
        var contentLength: Int?
        var chunked = false
        var close = false
        var keepAlive = false
        try HTTP1FieldLines.parse(bytes[(lf + 1)..<(bytes.endIndex - 2)], limits: limits, into: &fields) {
            name, value throws(HTTP1ParseError) in
            switch name {
            case .contentLength:
                guard let length = HTTP1Syntax.decimal(value) else {
                    throw .malformed("Content-Length is not a number of bytes.")
                }
                if let contentLength, contentLength != length { throw .malformed("Content-Length fields disagree.") }
                contentLength = length
            case .transferEncoding:
                // Only chunked, once: a body under another coding could not be passed on as it is.
                guard !chunked, HTTP1Syntax.equalsIgnoringCase(value, "chunked") else { throw .unsupportedCoding }
                chunked = true
                // Consumed here: the client's framing is the gateway's own.
                return false
            case .connection:
                var onlyOptions = true
                HTTP1Syntax.forEachItem(value) { token in
                    if HTTP1Syntax.equalsIgnoringCase(token, "close") {
                        close = true
                    } else if HTTP1Syntax.equalsIgnoringCase(token, "keep-alive") {
                        keepAlive = true
                    } else {
                        onlyOptions = false
                    }
                }
                // Options of this hop only; a list that names fields stays for `HopByHop.strip`.
                if onlyOptions { return false }
            case HTTP1FieldNames.keepAlive:
                return false
            default:
                break
            }
            return true
        }
        let status = HTTPResponse.Status(code: code, reasonPhrase: reason)
        var response = HTTPResponse(status: status)
        response.headerFields = fields
        var reusable = !close && (minorByte == UInt8(ascii: "1") || keepAlive)
        let framing: HTTP1BodyDecoder.Framing
        if answersHead || code < 200 || code == 204 || code == 304 {
            framing = .length(0)
        } else if chunked {
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
            reusable = false
        }
        return (Head(response: response, keepAlive: reusable), framing)
    }
}
