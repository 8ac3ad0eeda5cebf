import HTTPTypes
import NIOCore
import Testing

@testable import PorticoGateway

@Suite("HTTP/1.1 response parsing")
struct HTTP1ResponseParserTests {
    static let limits = HTTP1FieldLines.Limits(fieldSize: 8192, listSize: 16384, fieldCount: 50)

    struct Parsed {
        var heads: [HTTP1ResponseParser.Head] = []
        var informational = 0
        var body = ""
        var ends = 0
        var trailers: HTTPFields?
        var error: HTTP1ParseError?
    }

    static func parse(_ text: String, chunk: Int? = nil, answersHead: Bool = false, closeAtEnd: Bool = false) -> Parsed
    {
        var parser = HTTP1ResponseParser(limits: limits)
        parser.answersHead = answersHead
        var parsed = Parsed()
        let bytes = Array(text.utf8)
        var buffer = ByteBuffer()
        var offset = 0
        let step = max(chunk ?? bytes.count, 1)
        func take(_ event: HTTP1ResponseParser.Event) {
            switch event {
            case .informational: parsed.informational += 1
            case .head(let head): parsed.heads.append(head)
            case .body(let bytes): parsed.body += String(buffer: bytes)
            case .end(let trailers):
                parsed.ends += 1
                if trailers != nil { parsed.trailers = trailers }
            }
        }
        do {
            repeat {
                let end = min(offset + step, bytes.count)
                buffer.writeBytes(bytes[offset..<end])
                offset = end
                while let event = try parser.next(&buffer) { take(event) }
            } while offset < bytes.count
            if closeAtEnd, let event = try parser.inputEnded() { take(event) }
        } catch {
            parsed.error = error
        }
        return parsed
    }

    @Test("status, fields and framing by length, chunks, none and the connection's end")
    func framing() throws {
        for chunk in [nil, 1, 5] {
            let sized = Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello", chunk: chunk)
            #expect(sized.heads.first?.response.status.code == 200)
            #expect(sized.heads.first?.response.status.reasonPhrase == "OK")
            #expect(sized.heads.first?.response.headerFields[.server] == "t")
            #expect(sized.heads.first?.keepAlive == true)
            #expect(sized.body == "hello" && sized.ends == 1)

            let chunked = Self.parse(
                "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nGrpc-Status: 0\r\n\r\n",
                chunk: chunk)
            #expect(chunked.body == "wikipedia" && chunked.ends == 1)
            #expect(chunked.trailers?[HTTPField.Name("grpc-status")!] == "0")

            let interim = Self.parse(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", chunk: chunk)
            #expect(
                interim.informational == 1 && interim.heads.first?.response.status.code == 204 && interim.ends == 1
                    && interim.body.isEmpty)

            let head = Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", chunk: chunk, answersHead: true)
            #expect(head.ends == 1 && head.body.isEmpty)

            let untilClose = Self.parse("HTTP/1.1 200 OK\r\n\r\nstream of bytes", chunk: chunk, closeAtEnd: true)
            #expect(untilClose.heads.first?.keepAlive == false)
            #expect(untilClose.body == "stream of bytes" && untilClose.ends == 1)

            let old = Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", chunk: chunk)
            #expect(old.heads.first?.keepAlive == false && old.ends == 1)
            let closing = Self.parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", chunk: chunk)
            #expect(closing.heads.first?.keepAlive == false)
            let bare = Self.parse("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", chunk: chunk)
            #expect(bare.heads.first?.response.status.code == 503 && bare.ends == 1)
        }
    }

    @Test(
        "a target's ambiguous or broken framing is an error, not a guess",
        arguments: [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcde",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n",
            "ICY 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: a\u{1}b\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Big: 1234567890\r\n", count: 2000),
        ])
    func refusals(text: String) throws {
        for chunk in [nil, 1] {
            #expect(Self.parse(text, chunk: chunk).error != nil, "\(text.prefix(50).debugDescription)")
        }
    }

    @Test("a chunked body cut off by the target's close is an error")
    func cutOff() throws {
        let parsed = Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", closeAtEnd: true)
        #expect(parsed.error == .truncated)
        let sized = Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", closeAtEnd: true)
        #expect(sized.error == .truncated)
    }
}
