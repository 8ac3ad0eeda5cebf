import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import PorticoTesting
import Testing

/// HTTP/2 at the edge with real clients: AsyncHTTPClient over TLS (ALPN), curl with prior
/// knowledge in cleartext (h2c), and raw frames for a rapid-reset flood.
@Suite("HTTP/2 at the edge")
struct HTTP2Tests {
    static let token = "test-admin-token-0123456789abcdef"
    static let key = "h2-key-0123456789abcdef"

    /// Routes every test here shares, on `listeners` of the caller's; the mtls route when one of
    /// them asks for client certificates.
    static func yaml(listeners: String, upstream: Int, mtls: Bool = false) -> String {
        """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: \(token)}
        server: {access-log: false, watch-config: false}
        listeners:
        \(listeners)
        upstreams:
          backend: {targets: [{url: "http://127.0.0.1:\(upstream)"}]}
        auth:
          keys: {type: api-key, header: X-API-Key}
        \(mtls ? "  partners-mtls: {type: mtls, consumer-from: subject-cn}" : "")
        consumers:
          - {name: app, keys: ["\(key)"]}
          - {name: partner-app, groups: [partners]}
        apis:
          - {name: open, base-path: /open, upstream: backend}
          - name: keyed
            base-path: /keyed
            upstream: backend
            auth: keys
            rate-limit: {rate: 3/m, burst: 3, by: consumer}
        \(mtls ? "  - {name: partners, base-path: /partners, upstream: backend, auth: partners-mtls}" : "")
        """
    }

    /// An upstream that echoes the request's headers as JSON, and holds `/gather/...` requests
    /// until `gather` of them are in flight together.
    static func withUpstream(gather: AggregationTests.Rendezvous, _ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/echo/**") { request, _ -> Response in
            let object: [String: Any] = [
                "path": request.uri.path, "headers": request.headers.map { [$0.name.rawName, $0.value] },
            ]
            let json = try JSONSerialization.data(withJSONObject: object)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        router.on("/echo/**", method: .head) { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json", .contentLength: "12"])
        }
        router.post("/echo/**") { request, _ -> String in
            let body = try await request.body.collect(upTo: 1 << 20)
            return "\(body.readableBytes) \(request.headers[.contentLength] ?? "-")"
        }
        router.get("/gather/{n}") { _, context -> Response in
            try await gather.arrive()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: context.parameters.get("n") ?? "")))
        }
        try await withServer(router, body)
    }

    static func headers(_ body: String) throws -> [String: String] {
        let echoed = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return Dictionary(
            ((echoed?["headers"] as? [[String]]) ?? []).map { ($0[0].lowercased(), $0[1]) },
            uniquingKeysWith: { a, _ in a })
    }

    @Test("h2 by ALPN: many concurrent streams on one connection, every policy as over HTTP/1.1, and mtls")
    func alpn() async throws {
        let certs = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try TLSListenerTests.makeCA(in: certs)
        try TLSListenerTests.makeCertificate("api", host: "api.example.com", organization: "API", in: certs)
        try TLSListenerTests.makeCertificate("partner", host: "partner-app", organization: "Partner", in: certs)
        var files: [String: String] = [:]
        for name in ["api.pem", "api.key", "ca.pem"] {
            files[name] = try String(contentsOfFile: certs + "/" + name, encoding: .utf8)
        }
        let gather = AggregationTests.Rendezvous(size: 20)
        try await Self.withUpstream(gather: gather) { upstream in
            let listeners = """
                  - listen: 127.0.0.1:0
                    tls: {certificates: [{cert: api.pem, key: api.key}], client-ca: ca.pem}
                    protocols: [h2, http/1.1]
                """
            try await GatewayHarness.with(
                yaml: Self.yaml(listeners: listeners, upstream: upstream, mtls: true), files: files
            ) { gateway in
                let base = "https://api.example.com:\(gateway.listenerPorts[1])"
                try await TLSListenerTests.withTLSClient(folder: certs) { client in
                    let first = try await client.execute(
                        HTTPClientRequest(url: base + "/open/echo/first"), timeout: .seconds(10))
                    #expect(first.version == .http2)
                    let seen = try Self.headers(String(buffer: try await first.body.collect(upTo: 1 << 20)))
                    #expect(seen["x-forwarded-proto"] == "https")
                    let firstID = try #require(first.headers["x-request-id"].first)

                    // 20 streams at once: the upstream answers none until all 20 are in flight.
                    let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                        for index in 0..<20 {
                            group.addTask {
                                let answer = try await client.execute(
                                    HTTPClientRequest(url: base + "/open/gather/\(index)"), timeout: .seconds(30))
                                _ = try await answer.body.collect(upTo: 1024)
                                return answer.version == .http2 ? Int(answer.status.code) : -1
                            }
                        }
                        return try await group.reduce(into: [Int]()) { $0.append($1) }
                    }
                    #expect(statuses == Array(repeating: 200, count: 20))
                    #expect(gather.misses == 0)
                    let admin = adminClient(
                        TestClient(client: client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                        port: gateway.adminPort!)
                    let connections = try #require(
                        try await admin.send(.GET, "/admin/status").json()["connections"] as? [String: Any])
                    // The client's one HTTP/2 connection (the admin client's is on another listener).
                    #expect(connections["open"] as? Int == 1, "\(connections)")

                    // Auth and limits answer as they do over HTTP/1.1.
                    let refused = try await client.execute(
                        HTTPClientRequest(url: base + "/keyed/echo/x"), timeout: .seconds(10))
                    #expect(refused.status.code == 401)
                    #expect(refused.headers["content-type"].first == "application/problem+json")
                    #expect(!(refused.headers["x-request-id"].first ?? "").isEmpty)
                    var keyed: [Int] = []
                    for _ in 0..<4 {
                        var request = HTTPClientRequest(url: base + "/keyed/echo/x")
                        request.headers.add(name: "X-API-Key", value: Self.key)
                        keyed.append(Int(try await client.execute(request, timeout: .seconds(10)).status.code))
                    }
                    #expect(keyed == [200, 200, 200, 429])

                    // Streams are served on the event-loop path, a body of known length too; a
                    // streamed body (no length) goes whole to the streaming path.
                    let before = try #require(
                        try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                    var post = HTTPClientRequest(url: base + "/open/echo/posted")
                    post.method = .POST
                    post.body = .bytes(ByteBuffer(string: "hello h2"))
                    let posted = try await client.execute(post, timeout: .seconds(10))
                    #expect(posted.version == .http2)
                    #expect(String(buffer: try await posted.body.collect(upTo: 1024)) == "8 8")
                    var streamed = HTTPClientRequest(url: base + "/open/echo/streamed")
                    streamed.method = .POST
                    let pieces = AsyncStream<ByteBuffer> { continuation in
                        for piece in ["str", "eam", "ed"] { continuation.yield(ByteBuffer(string: piece)) }
                        continuation.finish()
                    }
                    streamed.body = .stream(pieces, length: .unknown)
                    let answer = try await client.execute(streamed, timeout: .seconds(10))
                    #expect(answer.status.code == 200)
                    let streamedText = String(buffer: try await answer.body.collect(upTo: 1024))
                    #expect(streamedText.hasPrefix("8 "), "\(streamedText)")
                    let after = try #require(
                        try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                    #expect(after["event_loop"] == (before["event_loop"] ?? 0) + 1, "\(before) \(after)")
                    #expect(after["streaming"] == (before["streaming"] ?? 0) + 1, "\(before) \(after)")
                    // Earlier: the first request, 20 gathered ones, a refusal and four keyed ones.
                    #expect((before["event_loop"] ?? 0) >= 26, "\(before)")

                    // A client's own certificate fields are dropped on HTTP/2 streams too.
                    var spoofed = HTTPClientRequest(url: base + "/partners/echo/x")
                    spoofed.headers.add(name: "Portico-Client-Cert-CN", value: "partner-app")
                    spoofed.headers.add(name: "Portico-Client-Cert-Subject", value: "CN=partner-app")
                    let spoof = try await client.execute(spoofed, timeout: .seconds(10))
                    #expect(spoof.version == .http2)
                    #expect(spoof.status.code == 401)

                    // The call log says which protocol the call used.
                    let record = try #require(
                        try await MirrorTests.call(
                            TestClient(client: client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                            requestID: firstID))
                    #expect(record["protocol"] as? String == "2")
                }
                try await TLSListenerTests.withClientCertificate("partner", folder: certs) { client in
                    let answer = try await client.execute(
                        HTTPClientRequest(url: base + "/partners/echo/x"), timeout: .seconds(10))
                    #expect(answer.version == .http2)
                    #expect(answer.status.code == 200)
                    let seen = try Self.headers(String(buffer: try await answer.body.collect(upTo: 1 << 20)))
                    #expect(seen["x-consumer-name"] == "partner-app")
                }
                // HTTP/1.1 on the same listener, for clients that do not offer h2.
                let http1 = try await curl([
                    "--http1.1", "--cacert", certs + "/ca.pem", "--resolve",
                    "api.example.com:\(gateway.listenerPorts[1]):127.0.0.1", base + "/open/echo/one",
                ])
                #expect(http1.version == "1.1")
                #expect(http1.status == 200)
            }
        }
    }

    @Test("h2c with prior knowledge beside HTTP/1.1 on a cleartext listener")
    func priorKnowledge() async throws {
        try await Self.withUpstream(gather: .init(size: 1)) { upstream in
            let listeners = """
                  - listen: 127.0.0.1:0
                    protocols: [h2c, http/1.1]
                  - listen: 127.0.0.1:0
                    protocols: [h2]
                """
            try await GatewayHarness.with(yaml: Self.yaml(listeners: listeners, upstream: upstream)) { gateway in
                for port in [gateway.listenerPorts[1], gateway.listenerPorts[2]] {
                    let h2 = try await curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/open/echo/h2c"])
                    #expect(h2.version == "2")
                    #expect(h2.status == 200)
                    #expect(try Self.headers(h2.body)["x-forwarded-proto"] == "http")
                    let keyed = try await curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/keyed/echo/x"])
                    #expect(keyed.status == 401)
                    // HEAD: the target's length in a HEADERS frame that ends the stream (curl -I
                    // writes the head where the body would go).
                    let head = try await curl(["--http2-prior-knowledge", "-I", "http://127.0.0.1:\(port)/open/echo/h"])
                    #expect(head.status == 200)
                    #expect(head.version == "2")
                    #expect(head.body.lowercased().contains("content-length: 12"), "\(head.body)")
                }
                let http1 = try await curl(["--http1.1", "http://127.0.0.1:\(gateway.listenerPorts[1])/open/echo/h1"])
                #expect(http1.version == "1.1")
                #expect(http1.status == 200)
                // A listener that serves only h2 closes an HTTP/1.1 connection unanswered.
                let refused = try await curl(["--http1.1", "http://127.0.0.1:\(gateway.listenerPorts[2])/open/echo/h1"])
                #expect(refused.status == 0)
            }
        }
    }

    @Test("a rapid-reset flood is cut off with ENHANCE_YOUR_CALM and the gateway serves on")
    func rapidReset() async throws {
        try await Self.withUpstream(gather: .init(size: 1)) { upstream in
            let listeners = "  - listen: 127.0.0.1:0\n    protocols: [h2]"
            try await GatewayHarness.with(yaml: Self.yaml(listeners: listeners, upstream: upstream)) { gateway in
                let port = gateway.listenerPorts[1]
                let client = try await RawClient.connect(port: port, timeout: .seconds(20))
                var bytes =
                    Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
                    + Self.frame(type: 4, flags: 0, stream: 0, payload: [])
                // 1,000 requests, each reset at once (CVE-2023-44487).
                for index in 0..<1000 {
                    let stream = UInt32(2 * index + 1)
                    let path = Array("/open/echo/\(index)".utf8)
                    // :method GET, :scheme http, :path (literal, not indexed), :authority (literal, not indexed).
                    let block: [UInt8] =
                        [0x82, 0x86, 0x04, UInt8(path.count)] + path + [0x01, 9] + Array("127.0.0.1".utf8)
                    bytes += Self.frame(type: 1, flags: 0x05, stream: stream, payload: block)
                    bytes += Self.frame(type: 3, flags: 0, stream: stream, payload: [0, 0, 0, 8])
                }
                await client.send(bytes: bytes)
                let answer = await client.readAllBytes()
                let goAway = Self.frames(answer).first { $0.type == 7 }
                #expect(
                    goAway.map { Array($0.payload[4..<8]) } == [0, 0, 0, 0x0b],
                    "GOAWAY: \(goAway.map { "\($0.payload)" } ?? "none")")

                let after = try await curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/open/echo/after"])
                #expect(after.status == 200)
                try await withClient(baseURL: gateway.baseURL) { client in
                    let plain = try await client.send(.GET, "/open/echo/plain")
                    #expect(plain.status == 200)
                }
            }
        }
    }

    @Test("a listener's http2 settings are what its first SETTINGS frame says")
    func settings() async throws {
        try await Self.withUpstream(gather: .init(size: 1)) { upstream in
            let listeners = """
                  - listen: 127.0.0.1:0
                    protocols: [h2]
                    http2: {max-concurrent-streams: 7, initial-window-size: 1048576, max-header-list-size: 8192}
                """
            try await GatewayHarness.with(yaml: Self.yaml(listeners: listeners, upstream: upstream)) { gateway in
                let client = try await RawClient.connect(port: gateway.listenerPorts[1], timeout: .seconds(10))
                await client.send(
                    bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
                        + Self.frame(type: 4, flags: 0, stream: 0, payload: []))
                var received: [UInt8] = []
                var settings: [UInt8]?
                while settings == nil {
                    let more = await client.readSome()
                    if more.isEmpty { break }
                    received += more
                    settings = Self.frames(received).first { $0.type == 4 }?.payload
                }
                var values: [Int: Int] = [:]
                for offset in stride(from: 0, to: (settings ?? []).count - 5, by: 6) {
                    let entry = settings![offset..<offset + 6].map(Int.init)
                    values[entry[0] << 8 | entry[1]] = entry[2] << 24 | entry[3] << 16 | entry[4] << 8 | entry[5]
                }
                // SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE.
                #expect(values[3] == 7, "\(values)")
                #expect(values[4] == 1_048_576, "\(values)")
                #expect(values[6] == 8192, "\(values)")
                let answer = try await curl([
                    "--http2-prior-knowledge", "http://127.0.0.1:\(gateway.listenerPorts[1])/open/echo/x",
                ])
                #expect(answer.status == 200)
            }
        }
    }

    /// An HTTP/2 frame (RFC 9113 §4.1).
    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 16), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags]
            + [UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + payload
    }

    /// The whole frames in `bytes`.
    static func frames(_ bytes: [UInt8]) -> [(type: UInt8, payload: [UInt8])] {
        var found: [(UInt8, [UInt8])] = []
        var index = 0
        while index + 9 <= bytes.count {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard index + 9 + length <= bytes.count else { break }
            found.append((bytes[index + 3], Array(bytes[(index + 9)..<(index + 9 + length)])))
            index += 9 + length
        }
        return found
    }
}
