import HTTPTypes
import NIOCore
import Testing

@testable import PorticoGateway

@Suite("HTTP/1.1 request parsing")
struct HTTP1RequestParserTests {
    static let limits = HTTP1FieldLines.Limits(fieldSize: 8192, listSize: 16384, fieldCount: 50)

    /// Every event from `text`, fed whole or `chunk` bytes at a time; the error, if one is thrown.
    static func parse(
        _ text: String, chunk: Int? = nil, secure: Bool = false
    ) -> (events: [HTTP1RequestParser.Event], error: HTTP1ParseError?, rest: String) {
        var parser = HTTP1RequestParser(secure: secure, limits: limits)
        let bytes = Array(text.utf8)
        var buffer = ByteBuffer()
        var events: [HTTP1RequestParser.Event] = []
        var offset = 0
        let step = chunk ?? bytes.count
        repeat {
            let end = min(offset + step, bytes.count)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            do {
                while let event = try parser.next(&buffer) { events.append(event) }
            } catch {
                return (events, error, "")
            }
        } while offset < bytes.count
        return (events, nil, String(buffer: buffer))
    }

    static func heads(_ events: [HTTP1RequestParser.Event]) -> [HTTP1RequestParser.Head] {
        events.compactMap { if case .head(let head) = $0 { return head } else { return nil } }
    }

    static func body(_ events: [HTTP1RequestParser.Event]) -> String {
        events.map { if case .body(let bytes) = $0 { return String(buffer: bytes) } else { return "" } }.joined()
    }

    static func ends(_ events: [HTTP1RequestParser.Event]) -> Int {
        events.filter { if case .end = $0 { return true } else { return false } }.count
    }

    @Test("a request's method, target, authority and fields, whole or a byte at a time")
    func simple() throws {
        let text =
            "GET /a/b?c=1 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: t\r\nX-Custom:  v a l  \r\nAccept: */*\r\n\r\n"
        for chunk in [nil, 1, 7] {
            let (events, error, rest) = Self.parse(text, chunk: chunk)
            #expect(error == nil)
            #expect(rest.isEmpty)
            let head = try #require(Self.heads(events).first)
            #expect(head.request.method == .get)
            #expect(head.request.path == "/a/b?c=1")
            #expect(head.request.authority == "api.example.com")
            #expect(head.request.scheme == "http")
            #expect(head.request.headerFields[HTTP1FieldNames.host] == nil)
            #expect(head.request.headerFields[.userAgent] == "t")
            #expect(head.request.headerFields[HTTPField.Name("x-custom")!] == "v a l")
            #expect(head.request.headerFields.count == 3)
            #expect(head.keepAlive && !head.upgrade && head.minorVersion == 1)
            #expect(Self.ends(events) == 1)
        }
    }

    @Test("pipelined requests, bodies by length and by chunks with extensions and trailers")
    func bodies() throws {
        let text =
            "\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 9\r\n\r\n"
            + "GET /z HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        for chunk in [nil, 1, 3, 64] {
            let (events, error, _) = Self.parse(text, chunk: chunk)
            #expect(error == nil, "\(String(describing: error))")
            let heads = Self.heads(events)
            #expect(heads.map(\.request.path) == ["/x", "/y", "/z"])
            #expect(heads.map(\.contentLength) == [5, nil, nil])
            #expect(heads.map(\.chunked) == [false, true, false])
            #expect(heads.map(\.keepAlive) == [true, true, false])
            #expect(Self.body(events) == "helloabcde")
            #expect(Self.ends(events) == 3)
            let trailers = events.compactMap { if case .end(let fields) = $0 { return fields } else { return nil } }
            #expect(trailers.first?[HTTPField.Name("x-sum")!] == "9")
        }
    }

    @Test("HTTP/1.0 closes unless asked to keep alive; absolute-form targets give their path")
    func versionsAndForms() throws {
        let old = Self.heads(Self.parse("GET / HTTP/1.0\r\n\r\n").events)
        #expect(old.first?.keepAlive == false && old.first?.minorVersion == 0)
        let kept = Self.heads(Self.parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").events)
        #expect(kept.first?.keepAlive == true)
        let absolute = Self.heads(
            Self.parse("GET http://example.com:8080/p/q?r=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").events)
        #expect(absolute.first?.request.path == "/p/q?r=1")
        // RFC 9112 §3.2.2: the target's authority, not Host's.
        #expect(absolute.first?.request.authority == "example.com:8080")
        let spoofed = Self.heads(
            Self.parse("GET http://internal.example/x HTTP/1.1\r\nHost: public.example\r\n\r\n").events)
        #expect(spoofed.first?.request.authority == "internal.example")
        let bare = Self.heads(Self.parse("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").events)
        #expect(bare.first?.request.path == "/")
        let options = Self.heads(Self.parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").events)
        #expect(options.first?.request.path == "*")
        let secure = Self.heads(Self.parse("DELETE /d HTTP/1.1\r\nHost: h\r\n\r\n", secure: true).events)
        #expect(secure.first?.request.scheme == "https" && secure.first?.request.method == .delete)
    }

    @Test("an upgrade request stops the parser; what follows stays unparsed")
    func upgrade() throws {
        let text =
            "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\u{1}\u{2}frame"
        let (events, error, rest) = Self.parse(text)
        #expect(error == nil)
        #expect(Self.heads(events).first?.upgrade == true)
        #expect(Self.ends(events) == 1)
        #expect(rest == "\u{1}\u{2}frame")
    }

    @Test(
        "smuggling shapes, bad syntax and limits are refused with their status",
        arguments: [
            ("GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
            ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("GET /a\u{7f}b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nX-A: " + String(repeating: "a", count: 9000) + "\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: h\r\n" + String(repeating: "X-A: 1\r\n", count: 51) + "\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: h\r\n" + String(repeating: "X-A: 1234567890\r\n", count: 2000), 431),
        ])
    func refusals(text: String, status: Int) throws {
        for chunk in [nil, 1] {
            let error = Self.parse(text, chunk: chunk).error
            #expect(
                error?.status == status,
                "\(text.prefix(60).debugDescription) chunk \(String(describing: chunk)): \(String(describing: error))")
        }
    }

    @Test("a body cut off by the connection's end is an error; a complete one is not")
    func cutOff() throws {
        var parser = HTTP1RequestParser(secure: false, limits: Self.limits)
        var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        while try parser.next(&buffer) != nil {}
        #expect(throws: HTTP1ParseError.truncated) { try parser.inputEnded(buffered: 0) }
        var done = HTTP1RequestParser(secure: false, limits: Self.limits)
        var whole = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        while try done.next(&whole) != nil {}
        try done.inputEnded(buffered: 0)
        #expect(done.isBetweenMessages)
    }
}
