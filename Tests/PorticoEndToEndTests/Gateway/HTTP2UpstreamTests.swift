import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import PorticoTesting
import Testing

/// `protocol: h2` to a target that speaks only cleartext HTTP/2 (h2c): the requests the
/// event-loop path leaves to the streaming path (a body over 64 KiB, a chunked body, a body that
/// validation reads) reach it too, on a stream of the gateway's own HTTP/2 client, and so do
/// its health probes.
@Suite("HTTP/2 upstreams on the streaming path")
struct HTTP2UpstreamTests {
    static let token = "test-admin-token-0123456789abcdef"

    static func yaml(upstream: Int) -> String {
        """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: \(token)}
        server: {access-log: false, watch-config: false}
        listeners:
          - listen: 127.0.0.1:0
            protocols: [h2c]
        upstreams:
          h2c:
            targets: [{url: "http://127.0.0.1:\(upstream)"}]
            protocol: h2
            health:
              active: {path: /health, interval: 100ms, timeout: 5s, healthy: 1, unhealthy: 1}
        apis:
          - {name: files, base-path: /files, upstream: h2c}
          - {name: small, base-path: /small, upstream: h2c, max-body-size: 100KiB}
          - {name: checked, base-path: /checked, openapi: checked.yaml, upstream: h2c, validate: enforce, max-body-size: 100KiB}
        """
    }

    static let spec = """
        openapi: 3.1.0
        info: {title: Checked, version: "1"}
        paths:
          /notes:
            post:
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {type: object, required: [title], properties: {title: {type: string}}}
              responses: {'200': {description: Stored}}
        """

    /// `count` bytes of printable text that differ along their length, so a lost or reordered
    /// piece shows in the digest.
    static func payload(_ count: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var bytes = [UInt8](repeating: 0, count: count)
        var state: UInt32 = 2_463_534_242
        for index in bytes.indices {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            bytes[index] = letters[Int(state % UInt32(letters.count))]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test("a large, a chunked and a validated body reach an h2c target over HTTP/1.1 and HTTP/2; probes speak h2")
    func streamingPath() async throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let large = Self.payload(300 * 1024)
        let file = folder + "/large.txt"
        try large.write(toFile: file, atomically: true, encoding: .utf8)
        try await H2CEchoServer.with { upstream in
            try await GatewayHarness.with(yaml: Self.yaml(upstream: upstream.port), files: ["checked.yaml": Self.spec])
            {
                gateway in
                let client = TestClient(client: HTTPClient.shared, baseURL: gateway.baseURL)
                let admin = adminClient(client, port: gateway.adminPort!)
                let before = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])

                // HTTP/1.1, 300 KiB with a length: streamed to the target, which sees the length.
                let sized = try await client.send(
                    .POST, "/files/upload", headers: [("Content-Type", "text/plain")],
                    body: .bytes(ByteBuffer(string: large)))
                #expect(sized.status == 200, "\(sized.text)")
                #expect(sized.headers.first(name: "x-seen-length") == String(large.utf8.count))
                #expect(sized.headers.first(name: "x-seen-sha256") == Self.sha256(large))
                #expect(sized.text == large, "the target's answer, 300 KiB, comes back whole")

                // HTTP/1.1, chunked: no length to the target, every byte in order.
                let pieces = stride(from: 0, to: large.utf8.count, by: 50_000).map { start in
                    ByteBuffer(bytes: Array(large.utf8)[start..<min(start + 50_000, large.utf8.count)])
                }
                let stream = AsyncStream<ByteBuffer> { continuation in
                    for piece in pieces { continuation.yield(piece) }
                    continuation.finish()
                }
                let chunked = try await client.send(.POST, "/files/chunked", body: .stream(stream, length: .unknown))
                #expect(chunked.status == 200, "\(chunked.text)")
                #expect(chunked.headers.first(name: "x-seen-length") == "-")
                #expect(chunked.headers.first(name: "x-seen-sha256") == Self.sha256(large))

                // HTTP/2 from the client, 300 KiB with a length: streamed to the target on the
                // event loop, stream to stream, with its length.
                let h2 = try await curl([
                    "--http2-prior-knowledge", "-i", "--data-binary", "@" + file, "-H", "Content-Type: text/plain",
                    "http://127.0.0.1:\(gateway.listenerPorts[1])/files/h2",
                ])
                #expect(h2.status == 200)
                #expect(h2.version == "2")
                #expect(h2.body.contains("x-seen-sha256: \(Self.sha256(large))"), "\(h2.body.prefix(600))")
                #expect(h2.body.hasSuffix(large))
                #expect(h2.body.contains("x-seen-length: \(large.utf8.count)"), "\(h2.body.prefix(600))")
                // Over the route's limit: refused at the head, before the target hears of it,
                // and the client asked to stop sending without an error (RFC 9113 §8.1).
                let tooLarge = try await nghttp(["-d", file, "http://127.0.0.1:\(gateway.listenerPorts[1])/small/big"])
                #expect(tooLarge.status == 413, "\(tooLarge.log.suffix(1500))")
                #expect(tooLarge.reset == "NO_ERROR", "\(tooLarge.log.suffix(1500))")

                // Validation reads the body on the streaming path: a valid one is forwarded,
                // an invalid one is refused before the target hears of it.
                let valid = try await client.send(
                    .POST, "/checked/notes", headers: [("Content-Type", "application/json")],
                    body: .bytes(ByteBuffer(string: #"{"title":"hello"}"#)))
                #expect(valid.status == 200, "\(valid.text)")
                #expect(valid.text == #"{"title":"hello"}"#)
                let invalid = try await client.send(
                    .POST, "/checked/notes", headers: [("Content-Type", "application/json")],
                    body: .bytes(ByteBuffer(string: #"{"title":7}"#)))
                #expect(invalid.status == 400)
                // The streaming path refuses one too large: the client is asked to stop sending
                // as on the event loop, not read to the end of its body.
                let tooLargeToCheck = try await nghttp([
                    "-d", file, "-H", "content-type: application/json",
                    "http://127.0.0.1:\(gateway.listenerPorts[1])/checked/notes",
                ])
                #expect(tooLargeToCheck.status == 413, "\(tooLargeToCheck.log.suffix(1500))")
                #expect(tooLargeToCheck.reset == "NO_ERROR", "\(tooLargeToCheck.log.suffix(1500))")

                // A client that breaks off its body: the target's stream is reset, not left
                // waiting for the rest.
                let raw = try await RawClient.connect(port: gateway.port)
                #expect(await raw.send("POST /files/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 307200\r\n\r\n"))
                #expect(await raw.send(String(large.prefix(100 * 1024))))
                raw.shutdownWrite()
                let cut = await raw.readResponse()
                #expect(cut == nil || cut?.status == 400, "\(String(describing: cut))")
                let deadline = ContinuousClock.now + .seconds(10)
                while !upstream.seen.contains("RESET POST /cut"), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(upstream.seen.contains("RESET POST /cut"), "\(upstream.seen)")

                // An HTTP/2 client that resets its stream mid-body (streamed on the event loop):
                // the target's stream is reset too.
                let h2Raw = try await RawClient.connect(port: gateway.listenerPorts[1])
                let path = Array("/files/rst".utf8)
                // :method POST, :scheme http, :path and :authority and content-length (literal, not indexed).
                let block: [UInt8] =
                    [0x83, 0x86, 0x04, UInt8(path.count)] + path + [0x01, 1] + Array("x".utf8)
                    + [0x0f, 0x0d, 6] + Array("307200".utf8)
                #expect(
                    await h2Raw.send(
                        bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
                            + HTTP2Tests.frame(type: 4, flags: 0, stream: 0, payload: [])
                            + HTTP2Tests.frame(type: 1, flags: 0x04, stream: 1, payload: block)
                            + HTTP2Tests.frame(type: 0, flags: 0, stream: 1, payload: Array(large.utf8.prefix(16_384))))
                )
                let opened = ContinuousClock.now + .seconds(10)
                while !upstream.seen.contains("POST /rst"), ContinuousClock.now < opened {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(upstream.seen.contains("POST /rst"), "\(upstream.seen)")
                // RST_STREAM(CANCEL)
                #expect(await h2Raw.send(bytes: HTTP2Tests.frame(type: 3, flags: 0, stream: 1, payload: [0, 0, 0, 8])))
                let resetDeadline = ContinuousClock.now + .seconds(10)
                while !upstream.seen.contains("RESET POST /rst"), ContinuousClock.now < resetDeadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(upstream.seen.contains("RESET POST /rst"), "\(upstream.seen)")
                h2Raw.reset()

                // All but the three HTTP/2 ones took the streaming path; none was refused for want of a client.
                let after = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                #expect((after["streaming"] ?? 0) - (before["streaming"] ?? 0) >= 5, "\(before) \(after)")
                #expect((after["event_loop"] ?? 0) - (before["event_loop"] ?? 0) == 3, "\(before) \(after)")
                let seen = upstream.seen
                #expect(seen.filter { $0 == "POST /notes" }.count == 1, "\(seen)")
                #expect(!seen.contains { $0.hasSuffix("/big") }, "\(seen)")
                // The probes went over h2 and passed: the target is healthy (one failed probe
                // would have taken it out).
                #expect(seen.contains("GET /health"))
                let targets = try await adminTargets(client, adminPort: gateway.adminPort!)
                #expect(targets.first?["healthy"] as? Bool == true, "\(targets)")
            }
        }
    }
}
