import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PorticoTesting
import Synchronization
import Testing

/// WebSocket through the gateway to a real WebSocket server (NIOWebSocket's upgrader, echoing
/// every message), with the handshake under the route's policies, frames both ways, the idle
/// timeout, and the call record written when the connection closes.
@Suite("WebSocket tunnels")
struct WebSocketTests {
    static let key = "ws-key-0123456789abcdef"
    static let token = "test-admin-token-0123456789abcdef"

    /// Echoes every text and binary message; answers a close with a close.
    final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text, .binary:
                context.writeAndFlush(
                    wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: frame.unmaskedData)),
                    promise: nil)
            case .connectionClose:
                context.writeAndFlush(
                    wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
                )
                .whenComplete { _ in context.close(promise: nil) }
            default:
                break
            }
        }
    }

    /// The headers of each handshake the echo server accepted.
    final class Handshakes: Sendable {
        private let seen = Mutex<[HTTPHeaders]>([])
        func append(_ headers: HTTPHeaders) { seen.withLock { $0.append(headers) } }
        var all: [HTTPHeaders] { seen.withLock { $0 } }
    }

    /// A WebSocket echo server on 127.0.0.1; `handshakes` gets each handshake's headers.
    static func withEchoServer(_ handshakes: Handshakes, _ body: (Int) async throws -> Void) async throws {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 21,
            shouldUpgrade: { channel, head in
                handshakes.append(head.headers)
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            })
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(server.localAddress?.port ?? 0)
        } catch {
            try? await server.close()
            throw error
        }
        try? await server.close()
    }

    static func yaml(echo: Int, plain: Int) -> String {
        """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: \(token)}
        server: {access-log: false, watch-config: false}
        upstreams:
          chat: {targets: [{url: "http://127.0.0.1:\(echo)"}]}
          plain: {targets: [{url: "http://127.0.0.1:\(plain)"}]}
        auth:
          keys: {type: api-key, header: X-API-Key}
        consumers:
          - {name: chatter, keys: ["\(key)"]}
        apis:
          - name: chat
            base-path: /chat
            upstream: chat
            websocket: true
            auth: keys
            routes:
              - path: /room
              - {path: /quiet, stream-idle-timeout: 6s}
          - {name: plain, base-path: /plain, upstream: plain}
        """
    }

    /// The opening handshake (RFC 6455 §4.1) with the RFC's sample key.
    static func handshake(_ path: String, key: String?) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + (key.map { "X-API-Key: \($0)\r\n" } ?? "") + "\r\n"
    }

    /// A masked client frame (RFC 6455 §5.2).
    static func clientFrame(opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x80 | opcode]
        switch payload.count {
        case ..<126: frame.append(0x80 | UInt8(payload.count))
        case ..<65_536: frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default: frame += [0x80 | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return frame + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// Reads until `bytes` holds a response head; returns the head's text and what follows it.
    static func readHead(_ client: RawClient) async -> (head: String, rest: [UInt8]) {
        var bytes: [UInt8] = []
        while true {
            if let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                return (String(decoding: bytes[..<end.upperBound], as: UTF8.self), Array(bytes[end.upperBound...]))
            }
            let more = await client.readSome()
            if more.isEmpty { return (String(decoding: bytes, as: UTF8.self), []) }
            bytes += more
        }
    }

    /// Reads one unmasked server frame's payload, given what was read already.
    static func readFrame(_ client: RawClient, buffered: inout [UInt8]) async -> (opcode: UInt8, payload: [UInt8])? {
        while true {
            if buffered.count >= 2 {
                var length = Int(buffered[1] & 0x7f)
                var offset = 2
                if length == 126, buffered.count >= 4 {
                    length = Int(buffered[2]) << 8 | Int(buffered[3])
                    offset = 4
                } else if length == 127, buffered.count >= 10 {
                    length = buffered[2..<10].reduce(0) { $0 << 8 | Int($1) }
                    offset = 10
                }
                if length < 126 || offset > 2, buffered.count >= offset + length {
                    let frame = (buffered[0] & 0x0f, Array(buffered[offset..<(offset + length)]))
                    buffered.removeFirst(offset + length)
                    return frame
                }
            }
            let more = await client.readSome()
            if more.isEmpty { return nil }
            buffered += more
        }
    }

    @Test("the handshake passes the route's policies, messages echo both ways, and the call record comes at the close")
    func echo() async throws {
        let handshakes = Handshakes()
        try await Self.withEchoServer(handshakes) { echoPort in
            try await withUpstream { plainPort in
                try await GatewayHarness.with(yaml: Self.yaml(echo: echoPort, plain: plainPort)) { gateway in
                    // No key: the policies answer the handshake, and the server never sees it.
                    let stranger = try await RawClient.connect(port: gateway.port)
                    await stranger.send(Self.handshake("/chat/room", key: nil))
                    let refused = await stranger.readResponse()
                    #expect(refused?.status == 401)
                    #expect(handshakes.all.isEmpty)

                    let client = try await RawClient.connect(port: gateway.port)
                    await client.send(Self.handshake("/chat/room", key: Self.key))
                    var (head, buffered) = await Self.readHead(client)
                    #expect(head.hasPrefix("HTTP/1.1 101 "), "\(head)")
                    #expect(head.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "\(head)")
                    #expect(head.lowercased().contains("upgrade: websocket"))
                    let requestID =
                        head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }
                        .map { String($0.split(separator: ":")[1]).trimmingCharacters(in: .whitespaces) } ?? ""
                    let seen = handshakes.all.first
                    #expect(seen?["X-Consumer-Name"].first == "chatter")
                    #expect(seen?["X-API-Key"].isEmpty == true)

                    for text in ["hello", "through", "the gateway"] {
                        await client.send(bytes: Self.clientFrame(opcode: 0x1, Array(text.utf8)))
                        let frame = await Self.readFrame(client, buffered: &buffered)
                        #expect(frame?.opcode == 0x1)
                        #expect(frame.map { String(decoding: $0.payload, as: UTF8.self) } == text)
                    }
                    // A 512 KiB message: more than the sockets' buffers, so both directions must wait for the reader.
                    let big = (0..<(512 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                    await client.send(bytes: Self.clientFrame(opcode: 0x2, big))
                    let echoed = await Self.readFrame(client, buffered: &buffered)
                    #expect(echoed?.opcode == 0x2)
                    #expect(echoed?.payload == big)

                    await client.send(bytes: Self.clientFrame(opcode: 0x8, []))
                    #expect(await Self.readFrame(client, buffered: &buffered)?.opcode == 0x8)
                    #expect(await client.isClosedByPeer())

                    try await withClient(baseURL: "http://127.0.0.1:\(gateway.adminPort!)") { admin in
                        let record = try #require(
                            try await MirrorTests.call(admin, requestID: requestID), "no call record for \(requestID)")
                        #expect(record["status"] as? Int == 101)
                        #expect(record["protocol"] as? String == "1.1")
                        #expect(record["consumer"] as? String == "chatter")
                        #expect((record["bytes_in"] as? Int ?? 0) > big.count)
                        #expect((record["bytes_out"] as? Int ?? 0) > big.count)
                        #expect(record["error"] == nil || record["error"] is NSNull, "\(record)")
                    }
                }
            }
        }
    }

    @Test("websocket and stream-idle-timeout are checked at their line")
    func configErrors() throws {
        func problems(_ route: String) throws -> [String] {
            try configDiagnostics(
                "upstreams:\n  chat: {targets: [{url: 'http://127.0.0.1:9'}]}\napis:\n  - name: chat\n    base-path: /chat\n    upstream: chat\n"
                    + route
            ).map { "\($0.line): \($0.message)" }
        }
        #expect(
            try problems("    websocket: true\n    stream-idle-timeout: 0s\n").contains {
                $0.contains("stream-idle-timeout must be at least 1s")
            })
        #expect(try problems("    websocket: yes please\n").contains { $0.hasPrefix("7:") && $0.contains("websocket") })
        #expect(try problems("    websocket: true\n    stream-idle-timeout: 30s\n") == [])
    }

    @Test(
        "a silent tunnel is closed after stream-idle-timeout; Upgrade on a route without websocket is a plain request")
    func idleAndPlain() async throws {
        let handshakes = Handshakes()
        try await Self.withEchoServer(handshakes) { echoPort in
            try await withUpstream { plainPort in
                try await GatewayHarness.with(yaml: Self.yaml(echo: echoPort, plain: plainPort)) { gateway in
                    let quiet = try await RawClient.connect(port: gateway.port, timeout: .seconds(30))
                    await quiet.send(Self.handshake("/chat/quiet", key: Self.key))
                    var (head, buffered) = await Self.readHead(quiet)
                    #expect(head.hasPrefix("HTTP/1.1 101 "), "\(head)")
                    // Traffic keeps it open past the timeout...
                    // (Messages 1 s apart, against a 6 s timeout: room for a loaded machine's pauses.)
                    for index in 0..<4 {
                        try await Task.sleep(for: .seconds(1))
                        await quiet.send(bytes: Self.clientFrame(opcode: 0x1, Array("ping \(index)".utf8)))
                        #expect(await Self.readFrame(quiet, buffered: &buffered)?.opcode == 0x1)
                    }
                    // ...silence closes it: within seconds, far below the read's 30 s.
                    let silent = ContinuousClock.now
                    #expect(await quiet.isClosedByPeer())
                    #expect(ContinuousClock.now - silent < .seconds(20))

                    let plain = try await RawClient.connect(port: gateway.port)
                    await plain.send(Self.handshake("/plain/echo/x", key: nil))
                    let answer = await plain.readResponse()
                    #expect(answer?.status == 200)
                    let echoed =
                        try JSONSerialization.jsonObject(with: Data((answer?.body ?? "").utf8)) as? [String: Any]
                    let names = ((echoed?["headers"] as? [[String]]) ?? []).map { $0[0].lowercased() }
                    #expect(!names.contains("upgrade"))
                    #expect(names.contains("sec-websocket-key"))
                }
            }
        }
    }
}
