import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
import NIOPosix
import Synchronization

/// An upstream that speaks only HTTP/2 in cleartext (h2c, prior knowledge), as many gRPC and
/// internal services do. `GET /health` answers `ok`; any other request gets its own body back,
/// with `x-seen-length` (the `Content-Length` it came with, or `-`), `x-seen-bytes` and
/// `x-seen-sha256` telling what arrived. Every request's method and path is kept in `seen`, and
/// again as `RESET METHOD /path` when its stream closed before the request ended.
final class H2CEchoServer: Sendable {
    let port: Int
    private let channel: any Channel
    private let recorder: Recorder

    /// The requests that reached it, as `METHOD /path`.
    var seen: [String] { recorder.log.withLock { $0 } }

    private init(port: Int, channel: any Channel, recorder: Recorder) {
        self.port = port
        self.channel = channel
        self.recorder = recorder
    }

    /// Runs a server on a free port of 127.0.0.1 while `body` runs.
    static func with(_ body: (H2CEchoServer) async throws -> Void) async throws {
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandlers(
                                HTTP2FramePayloadToHTTPServerCodec(), EchoHandler(recorder: recorder))
                        }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = H2CEchoServer(port: channel.localAddress?.port ?? 0, channel: channel, recorder: recorder)
        do {
            try await body(server)
        } catch {
            try? await channel.close()
            throw error
        }
        try? await channel.close()
    }

    final class Recorder: Sendable {
        let log = Mutex<[String]>([])
    }

    /// One stream: gathers the request, then answers it whole.
    final class EchoHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPRequestPart
        typealias OutboundOut = HTTPResponsePart

        let recorder: Recorder
        private var head: HTTPRequest?
        private var body = ByteBuffer()
        private var ended = false

        init(recorder: Recorder) {
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                recorder.log.withLock { $0.append("\(head.method.rawValue) \(head.path ?? "")") }
            case .body(let buffer):
                body.writeImmutableBuffer(buffer)
            case .end:
                guard let head else { return }
                ended = true
                var fields: HTTPFields = [.contentType: "application/octet-stream"]
                var answer = body
                if head.path == "/health" {
                    answer = ByteBuffer(string: "ok")
                } else {
                    fields[HTTPField.Name("x-seen-length")!] = head.headerFields[.contentLength] ?? "-"
                    fields[HTTPField.Name("x-seen-bytes")!] = String(body.readableBytes)
                    fields[HTTPField.Name("x-seen-sha256")!] = SHA256.hash(data: Array(body.readableBytesView))
                        .map { String(format: "%02x", $0) }.joined()
                }
                fields[.contentLength] = String(answer.readableBytes)
                context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
                // In pieces, as a target streams a large answer.
                while answer.readableBytes > 0, let piece = answer.readSlice(length: min(answer.readableBytes, 16_384))
                {
                    context.write(wrapOutboundOut(.body(piece)), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let head, !ended {
                recorder.log.withLock { $0.append("RESET \(head.method.rawValue) \(head.path ?? "")") }
            }
            context.fireChannelInactive()
        }
    }
}
