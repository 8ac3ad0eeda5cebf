import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import PorticoConfig

/// Whoever takes the answer to an upgrade request: a final answer other than 101 as a plain
/// response (`UpstreamResponseSink`), a 101 once the target's channel is its tunnel's.
protocol UpgradeSink: UpstreamResponseSink {
    /// The target switched protocols; its channel now holds only the tunnel's side.
    func upstreamSwitched(_ head: HTTPResponse)
}

/// The target's end of an upgrade handshake, on a connection of its own (an upgraded connection
/// is never pooled): NIO's HTTP/1.1 client codec, then this handler. It writes the request head,
/// waits up to the try's timeout for the answer, and on 101 takes the codec out of the pipeline,
/// leaving the tunnel's side (which gets any bytes the target sent after its head).
final class UpgradeConnection: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case awaitingHead
        /// A final answer other than 101 is being passed on; the connection closes after it.
        case answering
        case switched
        case done
    }

    let sink: any UpgradeSink
    let tunnel: Tunnel
    private var state = State.awaitingHead
    private var timer: Scheduled<Void>?

    private init(sink: any UpgradeSink, tunnel: Tunnel) {
        self.sink = sink
        self.tunnel = tunnel
    }

    /// Connects to `target` on the tunnel's event loop and sends `head`. Failures reach the sink
    /// as a try's failures do.
    static func open(
        _ head: HTTPRequest, to target: TargetConfig, connectTimeout: TimeAmount, timeout: TimeAmount, tunnel: Tunnel,
        sink: any UpgradeSink
    ) {
        // HTTPTypes validated the head; the conversion fails only for a head without a path.
        guard let converted = try? HTTPRequestHead(head) else { return sink.upstreamFailed(.malformed) }
        let handler = UpgradeConnection(sink: sink, tunnel: tunnel)
        // Bytes after a 101 are the target's first frames: forwarded to the tunnel's side.
        HTTP1ClientBootstrap.connect(
            to: target, on: tunnel.eventLoop, connectTimeout: connectTimeout, codec: .forwardBytes, handler: handler
        ).whenComplete { result in
            switch result {
            case .success(let channel):
                guard !tunnel.isEnded else { return channel.close(promise: nil) }
                tunnel.upstreamChannel = channel
                handler.send(converted, on: channel, timeout: timeout)
            case .failure(let error):
                sink.upstreamFailed(HTTP1ClientBootstrap.failure(error))
            }
        }
    }

    private func send(_ head: HTTPRequestHead, on channel: any Channel, timeout: TimeAmount) {
        channel.write(wrapOutboundOut(.head(head)), promise: nil)
        channel.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        timer = channel.eventLoop.scheduleTask(in: timeout) {
            guard case .awaitingHead = self.state else { return }
            self.state = .done
            self.sink.upstreamFailed(.timeout)
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.awaitingHead, .head(let received)):
            if received.status.code < 200, received.status.code != 101 { return }
            timer?.cancel()
            guard let head = try? HTTPResponse(received) else {
                state = .done
                sink.upstreamFailed(.malformed)
                return context.close(promise: nil)
            }
            guard head.status.code == 101 else {
                state = .answering
                return sink.upstreamHead(head)
            }
            state = .switched
            // After the decoder's current pass: the `.end` it may emit for the 101 comes here
            // first, before the tunnel's side (which takes bytes only) is behind it.
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute { self.switchToTunnel(context: loopBound.value, head: head) }
        case (.answering, .body(let buffer)):
            sink.upstreamBody(buffer)
        case (.answering, .end):
            state = .done
            sink.upstreamEnd(trailers: nil)
            context.close(promise: nil)
        case (.switched, _), (.done, _):
            break
        default:
            state = .done
            sink.upstreamFailed(.malformed)
            context.close(promise: nil)
        }
    }

    /// Puts the tunnel's side after the decoder, then removes the codec (the decoder hands the
    /// side what it held) and this handler; the sink hears of the 101 when all of it is done.
    private func switchToTunnel(context: ChannelHandlerContext, head: HTTPResponse) {
        let pipeline = context.pipeline.syncOperations
        do {
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self)
            let encoder = try pipeline.context(handlerType: HTTPRequestEncoder.self)
            try pipeline.addHandler(tunnel.upstream, position: .after(decoder.handler))
            let removals = [decoder, encoder, context].map { handlerContext in
                let promise = context.eventLoop.makePromise(of: Void.self)
                pipeline.removeHandler(context: handlerContext, promise: promise)
                return promise.futureResult
            }
            let sink = self.sink
            let tunnel = self.tunnel
            EventLoopFuture.andAllSucceed(removals, on: context.eventLoop).whenComplete { result in
                switch result {
                case .success: sink.upstreamSwitched(head)
                case .failure: tunnel.end()
                }
            }
        } catch {
            tunnel.end()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .answering = state { sink.upstreamReadComplete() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        let previous = state
        state = .done
        switch previous {
        case .awaitingHead: sink.upstreamFailed(.reset)
        case .answering: sink.upstreamFailed(.cutOff)
        case .switched, .done: break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
