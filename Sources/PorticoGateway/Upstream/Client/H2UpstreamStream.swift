import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// One request to a target on a stream of its HTTP/2 connection (`H2TargetConnection`), on the
/// event loop of the client that uses it. It sits after NIO's HTTP/2-to-HTTPTypes codec in the
/// stream's pipeline.
///
/// The request goes out whole (`send` with `ends`) or streamed (`write(body:)`, `end`), for
/// gRPC's client and bidirectional streams; the response parts go to the sink as they arrive,
/// trailers included. The per-try timeout covers the head; after it, the upstream's idle
/// timeout between parts. Reads stop while the sink is paused, so HTTP/2 flow control slows
/// the target. A stream is never reused: closing it before both ends resets it.
final class H2UpstreamStream: ChannelDuplexHandler, UpstreamLeg, @unchecked Sendable {
    typealias InboundIn = HTTPResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPRequestPart

    private enum State {
        /// Open, nothing sent.
        case idle
        case awaitingHead(any UpstreamResponseSink)
        case streaming(any UpstreamResponseSink)
        /// The response ended, or the stream failed or was abandoned.
        case done
    }

    let eventLoop: any EventLoop
    let bodyIdleTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Whether the request's end was written.
    private var requestEnded = false
    private var paused = false
    private var readHeld = false
    /// The head timeout, then the idle timeout between parts.
    private var deadline = LegDeadline()
    private var timer: Scheduled<Void>?

    init(eventLoop: any EventLoop, bodyIdleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.bodyIdleTimeout = bodyIdleTimeout
    }

    // MARK: Use

    /// Writes the head, then `body`, then the end when `ends`; waits up to `timeout` for the response head.
    func send(
        _ head: HTTPRequest, body: ByteBuffer?, ends: Bool, timeout: TimeAmount, to sink: any UpstreamResponseSink
    ) {
        eventLoop.assertInEventLoop()
        guard let context, case .idle = state else { return sink.upstreamFailed(.reset) }
        state = .awaitingHead(sink)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        if ends {
            requestEnded = true
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.flush()
        arm(timeout, failing: .timeout)
    }

    /// A piece of a streamed request body.
    func write(body: ByteBuffer) {
        guard let context, !requestEnded, body.readableBytes > 0 else { return }
        if case .done = state { return }
        context.writeAndFlush(wrapOutboundOut(.body(body)), promise: nil)
    }

    /// The end of a streamed request, with the client's trailers if it sent any.
    func end(trailers: HTTPFields?) {
        guard let context, !requestEnded else { return }
        requestEnded = true
        if case .done = state { return }
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
    }

    /// Whether the stream takes more of the request body now (its flow-control window is open).
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func pause() {
        paused = true
    }

    func demand() {
        paused = false
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    func abandon() {
        eventLoop.assertInEventLoop()
        if case .done = state, requestEnded { return }
        state = .done
        stopTimer()
        context?.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads are not passed on; a second final head is a broken target.
            if head.status.kind == .informational { return }
            guard case .awaitingHead(let sink) = state else { return fail(.malformed) }
            state = .streaming(sink)
            arm(bodyIdleTimeout, failing: .cutOff)
            sink.upstreamHead(head)
        case .body(let buffer):
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            deadline.touch(now: .now())
            sink.upstreamBody(buffer)
        case .end(let trailers):
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            state = .done
            deadline.clear()
            stopTimer()
            sink.upstreamEnd(trailers: trailers)
            // The target answered before the request ended (a gRPC server may): the stream is
            // reset rather than left half open.
            if !requestEnded { context.close(promise: nil) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .streaming(let sink) = state { sink.upstreamReadComplete() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable else { return }
        switch state {
        case .awaitingHead(let sink), .streaming(let sink): sink.upstreamWritable()
        case .idle, .done: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        stopTimer()
        let previous = state
        state = .done
        switch previous {
        case .awaitingHead(let sink): sink.upstreamFailed(.reset)
        case .streaming(let sink): sink.upstreamFailed(.cutOff)
        case .idle, .done: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset by the target, or a protocol error on the stream: channelInactive tells the sink.
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readHeld = true
            return
        }
        context.read()
    }

    // MARK: Helpers

    private func fail(_ failure: UpstreamFailure) {
        let previous = state
        state = .done
        stopTimer()
        switch previous {
        case .awaitingHead(let sink), .streaming(let sink): sink.upstreamFailed(failure)
        case .idle, .done: break
        }
        context?.close(promise: nil)
    }

    private func arm(_ timeout: TimeAmount, failing failure: UpstreamFailure) {
        guard let at = deadline.arm(timeout, failing: failure, now: .now()) else { return }
        timer?.cancel()
        schedule(at: at)
    }

    /// The leg is done: no check is pending any more.
    private func stopTimer() {
        timer?.cancel()
        timer = nil
        deadline.stop()
    }

    private func schedule(at time: NIODeadline) {
        // Held strongly; cancelled when the stream ends.
        timer = eventLoop.scheduleTask(deadline: time) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        switch deadline.fired(now: .now()) {
        case .none: break
        case .schedule(let time): schedule(at: time)
        case .fail(let failure): fail(failure)
        }
    }
}
