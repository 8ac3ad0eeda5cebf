import HTTPTypes
import NIOCore
import Testing

@testable import PorticoGateway

/// `HTTP1ResponseEncoder` on its own: the bytes of each framing, and what must not be sent.
@Suite("HTTP/1.1 response encoding")
struct HTTP1ResponseEncoderTests {
    let allocator = ByteBufferAllocator()

    /// The whole response as text: head, body parts, end.
    func encode(
        _ head: HTTPResponse, answersHead: Bool = false, body: [String] = [], trailers: HTTPFields? = nil
    ) -> String {
        var encoder = HTTP1ResponseEncoder()
        var out = allocator.buffer(capacity: 256)
        _ = encoder.encode(head: head, answersHead: answersHead, into: &out)
        for part in body {
            switch encoder.encode(body: ByteBuffer(string: part), allocator: allocator) {
            case .asIs(var bytes): out.writeBuffer(&bytes)
            case .chunk(var size, var bytes):
                out.writeBuffer(&size)
                out.writeBuffer(&bytes)
                out.writeString("\r\n")
            case .nothing: break
            }
        }
        if var end = encoder.encodeEnd(trailers: trailers, allocator: allocator) { out.writeBuffer(&end) }
        #expect(encoder.framing == .none)
        return String(buffer: out)
    }

    @Test("a head with a length sends its body as it is")
    func length() {
        let head = HTTPResponse(status: .ok, headerFields: [.contentType: "text/plain", .contentLength: "5"])
        #expect(
            encode(head, body: ["he", "llo"])
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test("a head without a length is chunked; empty parts are skipped, trailers follow the last chunk")
    func chunked() {
        let head = HTTPResponse(status: .created, headerFields: [.contentType: "application/json"])
        #expect(
            encode(head, body: ["{\"a\":", "", "1}"])
                == "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"
        )
        var trailers = HTTPFields()
        trailers[HTTPField.Name("Grpc-Status")!] = "0"
        #expect(
            encode(head, body: [String(repeating: "x", count: 26)], trailers: trailers).hasSuffix(
                "\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\nGrpc-Status: 0\r\n\r\n"))
    }

    @Test("both framings in one head: chunked wins and the length is not sent")
    func bothFramings() {
        let head = HTTPResponse(status: .ok, headerFields: [.contentLength: "3", .transferEncoding: "chunked"])
        #expect(
            encode(head, body: ["abc"]) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    }

    @Test("HEAD, 204 and 304 answers carry no body; 204 carries no framing fields")
    func bodyless() {
        let ok = HTTPResponse(status: .ok, headerFields: [.contentLength: "42"])
        #expect(encode(ok, answersHead: true, body: ["dropped"]) == "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")
        let unlengthed = HTTPResponse(status: .ok)
        #expect(encode(unlengthed, answersHead: true) == "HTTP/1.1 200 OK\r\n\r\n")
        let noContent = HTTPResponse(
            status: .noContent, headerFields: [.contentLength: "0", .transferEncoding: "chunked"])
        #expect(encode(noContent, body: ["x"]) == "HTTP/1.1 204 No Content\r\n\r\n")
        let notModified = HTTPResponse(status: .notModified, headerFields: [.eTag: "\"v1\""])
        #expect(encode(notModified) == "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n")
    }

    @Test("an informational head is not the final one and leaves the framing to the next")
    func informational() {
        var encoder = HTTP1ResponseEncoder()
        var out = allocator.buffer(capacity: 64)
        #expect(
            !encoder.encode(
                head: HTTPResponse(
                    status: .earlyHints, headerFields: [HTTPField.Name("Link")!: "</a.css>; rel=preload"]),
                answersHead: false, into: &out))
        #expect(encoder.framing == .none)
        #expect(
            encoder.encode(
                head: HTTPResponse(status: .ok, headerFields: [.contentLength: "0"]), answersHead: false, into: &out))
        #expect(encoder.framing == .length)
        #expect(
            String(buffer: out)
                == "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        )
    }
}
