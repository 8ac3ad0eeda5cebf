import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
import NIOSSL
import PorticoConfig

/// An HTTP/2 connection at the edge whose streams are served on its event loop, with no task
/// per stream.
///
/// Hummingbird's `HTTP2Channel` yields every stream to the connection's task, which starts a
/// task per stream that waits for the request head: two hops to the cooperative pool and back
/// for each request, even one that `HTTP2StreamPath` then serves on the loop. Here each stream's
/// pipeline is built in NIOHTTP2's stream initializer (the codec and `HTTP2StreamPath`, given
/// the connection's client certificate, read once); only a stream that `HTTP2StreamPath` passes
/// on to the streaming path gets the rest (Hummingbird's state handler and an async channel) and
/// is handed to the connection's task, which serves it with the responder in a task of its own.
///
/// NIOHTTP2 keeps its defences (the listener's stream limit and header list size, 100 streams and
/// 16 KiB unless `http2:` says otherwise, and limits on resets, stream errors, control frames and
/// CONTINUATION runs). NIOHTTP2's connection manager closes the connection after `idleTimeout`
/// with no stream open, and on shutdown sends GOAWAY and waits at most `gracefulCloseTimeout`
/// for the open streams; `HTTP2InputClosedHandler` closes it when the client shuts its side.
/// `LoopTickFlush`, before NIOHTTP2's handler, joins the flushes of the streams that finish in
/// one tick of the loop.
struct EdgeHTTP2Connection: Sendable {
    typealias Stream = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// Hands a stream to the connection's task, which serves it on the streaming path; one per
    /// connection, copied into each stream's `HTTP2StreamPath` (no allocation per stream).
    struct Handoff: Sendable {
        let continuation: AsyncStream<Stream>.Continuation
        let logger: Logger

        /// Builds the rest of `stream`'s pipeline (only a stream passed on needs it) and yields it.
        func pass(_ stream: any Channel) {
            do {
                try stream.pipeline.syncOperations.addHandler(
                    HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                continuation.yield(try Stream(wrappingChannelSynchronously: stream))
            } catch {
                stream.close(promise: nil)
            }
        }
    }

    struct Value: ServerChildChannelValue {
        /// The streams passed on to the streaming path, as they are; finished when the connection closes.
        let passed: AsyncStream<Stream>
        let channel: any Channel
    }

    let gateway: GatewayHandler
    let responder: HTTPChannelHandler.Responder
    let secure: Bool
    let idleTimeout: TimeAmount?
    let gracefulCloseTimeout: TimeAmount?
    /// The listener's `http2:` settings.
    let settings: HTTP2ListenerSettings

    /// Adds HTTP/2 to a connection whose protocol is negotiated (ALPN or the h2c preface).
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let (passed, continuation) = AsyncStream.makeStream(of: Stream.self)
            let manager = NIOHTTP2ServerConnectionManagementHandler(
                eventLoop: channel.eventLoop,
                configuration: .init(
                    maxIdleTime: idleTimeout, maxAge: nil, maxGraceTime: gracefulCloseTimeout, keepalive: nil))
            var configuration = NIOHTTP2Handler.Configuration()
            configuration.connection.initialSettings = [
                HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.maxConcurrentStreams),
                HTTP2Setting(parameter: .maxHeaderListSize, value: settings.maxHeaderListSize),
                HTTP2Setting(parameter: .initialWindowSize, value: settings.initialWindowSize),
            ]
            configuration.connection.targetWindowSize = max(65535, settings.initialWindowSize)
            configuration.stream.targetWindowSize = settings.initialWindowSize
            let gateway = self.gateway
            let secure = self.secure
            let handoff = Handoff(continuation: continuation, logger: logger)
            // The handshake is done (the protocol was negotiated), so the certificate is known.
            let certificate =
                secure
                ? (try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate
                    .flatMap(ClientCertificate.init) : nil
            try channel.pipeline.syncOperations.addHandler(LoopTickFlush())
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: configuration.connection,
                streamConfiguration: configuration.stream,
                streamDelegate: manager.http2StreamDelegate
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    let path = HTTP2StreamPath(
                        gateway: gateway, secure: secure, certificate: certificate, handoff: handoff)
                    try stream.pipeline.syncOperations.addHandlers(HTTP2FramePayloadToHTTPServerCodec(), path)
                }
            }
            try channel.pipeline.syncOperations.addHandlers(manager, HTTP2InputClosedHandler())
            channel.closeFuture.whenComplete { _ in continuation.finish() }
            return Value(passed: passed, channel: channel)
        }
    }

    /// Serves the passed-on streams until the connection closes.
    func handle(value: Value, logger: Logger) async {
        await withDiscardingTaskGroup { group in
            for await stream in value.passed {
                group.addTask { await serve(stream, logger: logger) }
            }
        }
    }

    /// One request on the streaming path: the head, then the responder with the rest of the parts.
    private func serve(_ stream: Stream, logger: Logger) async {
        do {
            try await withTaskCancellationHandler {
                try await stream.executeThenClose { inbound, outbound in
                    var parts = inbound.makeAsyncIterator()
                    guard let part = try await parts.next() else { return }
                    guard case .head(let head) = part else { throw HTTP2StreamBody.PartOutOfOrder() }
                    let body = HTTP2StreamBody(parts)
                    let request = Request(head: head, body: RequestBody(asyncSequence: body))
                    try await responder(request, ResponseWriter(outbound: outbound), stream.channel)
                    // Read to the stream's end (the iterator's copies share their place in it).
                    while try await parts.next() != nil {}
                }
            } onCancel: {
                stream.channel.close(mode: .input, promise: nil)
            }
        } catch {
            logger.trace(
                "an HTTP/2 stream on the streaming path failed to read or write", metadata: ["error": "\(error)"])
        }
    }
}
