import HTTPTypes
import NIOCore
import PorticoConfig

/// One kept-alive HTTP/1.1 connection to a target, used by one request at a time, on the event
/// loop of the client connection that uses it.
///
/// The upstream channel's only handler: it writes each request's bytes itself
/// (`HTTP1RequestEncoder`) and parses the responses straight into HTTPTypes
/// (`HTTP1ResponseParser`), so no part passes another handler. The channel reads on its own (so read interest stays registered,
/// and a target closing an idle connection is noticed at once) until the sink pauses it because
/// its client cannot take more; `demand()` lets reads go on. Every method runs on `eventLoop`.
final class UpstreamConnection: ChannelDuplexHandler, UpstreamLeg, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// In the pool, or being set up.
        case idle
        /// A request is written; no head yet.
        case awaitingHead(any UpstreamResponseSink)
        /// The head went to the sink; the body is streaming.
        case streaming(any UpstreamResponseSink)
        case closed
    }

    let eventLoop: any EventLoop
    /// Called once, when the connection can no longer be used (closed, or handed back broken).
    var onClose: ((UpstreamConnection) -> Void)?
    /// Called when a response ended and the connection may serve another request.
    var onReusable: ((UpstreamConnection) -> Void)?
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var keepAlive = true
    /// The head timeout, then the body's idle timeout: one pending check across requests.
    private var deadline = LegDeadline()
    private var timer: Scheduled<Void>?
    /// The sink asked for no more reads for now; a read asked for meanwhile waits in `readHeld`.
    private var paused = false
    private var readHeld = false
    private var parser: HTTP1ResponseParser
    /// Bytes read and not yet parsed (a head that arrived in parts).
    private var unparsed: ByteBuffer?
    /// Requests this connection has carried, for the pool's bookkeeping.
    private(set) var uses = 0
    let bodyIdleTimeout: TimeAmount

    /// What a target's response head may hold: as much as a client's request head.
    static let headLimits = HTTP1FieldLines.Limits(fieldSize: 80 * 1024, listSize: 80 * 1024, fieldCount: 1000)

    private static let noBytes = ByteBuffer()

    init(eventLoop: any EventLoop, bodyIdleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.bodyIdleTimeout = bodyIdleTimeout
        self.parser = HTTP1ResponseParser(limits: Self.headLimits)
    }

    var isUsable: Bool {
        if case .idle = state, context != nil, keepAlive { return true }
        return false
    }

    // MARK: Use

    /// Writes the request (head, whole body, end) and waits up to `timeout` for the head.
    func send(_ head: HTTPRequest, body: ByteBuffer?, timeout: TimeAmount, to sink: any UpstreamResponseSink) {
        eventLoop.assertInEventLoop()
        guard let context, case .idle = state else {
            sink.upstreamFailed(.reset)
            return
        }
        uses += 1
        state = .awaitingHead(sink)
        parser.answersHead = head.method == .head
        var bytes = context.channel.allocator.buffer(capacity: 512)
        HTTP1RequestEncoder.encode(head, into: &bytes)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(bytes), promise: nil)
            context.writeAndFlush(wrapOutboundOut(body), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
        arm(timeout, failing: .timeout)
    }

    /// The sink cannot take more for now: stop reading from the target.
    func pause() {
        paused = true
    }

    /// The sink can take more of the body.
    func demand() {
        eventLoop.assertInEventLoop()
        paused = false
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    /// The sink no longer wants this connection (its client went away). Mid-request: close, never
    /// reuse. Handed over but never used: back to the pool, which counts it as open until then.
    func abandon() {
        eventLoop.assertInEventLoop()
        switch state {
        case .awaitingHead, .streaming:
            state = .closed
            stopTimer()
            context?.close(promise: nil)
        case .idle:
            if isUsable { onReusable?(self) } else { context?.close(promise: nil) }
        case .closed:
            break
        }
    }

    /// Closes an idle connection (the pool's idle timeout, or shutdown).
    func close() {
        eventLoop.assertInEventLoop()
        context?.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        // Bytes while no request is out (in the pool): the target is broken, and whatever it
        // sent would be taken for the next request's answer.
        switch state {
        case .awaitingHead, .streaming: receive(bytes, context: context)
        case .idle: fail(.malformed)
        case .closed: break
        }
    }

    private func receive(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        unparsed.append(read: bytes)
        while true {
            // An empty buffer still yields the end of a body of length 0.
            var buffer = unparsed ?? Self.noBytes
            let event: HTTP1ResponseParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                unparsed = nil
                return fail(.malformed)
            }
            unparsed = buffer.readableBytes > 0 ? buffer : nil
            guard let event else { return }
            handle(event, context: context)
            if case .closed = state { return }
        }
    }

    private func handle(_ event: HTTP1ResponseParser.Event, context: ChannelHandlerContext) {
        switch event {
        case .informational:
            // 100 Continue, 103 Early Hints: the final head follows.
            guard case .awaitingHead = state else { return fail(.malformed) }
        case .head(let head):
            // Bytes nobody asked for, or a switch of protocols nobody asked for: the target is broken.
            guard case .awaitingHead(let sink) = state, head.response.status.code != 101 else {
                return fail(.malformed)
            }
            keepAlive = head.keepAlive
            state = .streaming(sink)
            // The head timer, still pending, becomes the body's idle timer.
            arm(bodyIdleTimeout, failing: .cutOff)
            sink.upstreamHead(head.response)
        case .body(let buffer):
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            deadline.touch(now: .now())
            sink.upstreamBody(buffer)
        case .end:
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            // The pending timer stays: it finds nothing to watch, or the next request's watch.
            deadline.clear()
            state = .idle
            sink.upstreamEnd(trailers: nil)
            if keepAlive, self.context != nil, unparsed == nil {
                // Idle in the pool, reading, so that a close by the target is seen at once.
                demand()
                onReusable?(self)
            } else {
                // Bytes after the response, or a target that closes: not reused.
                state = .closed
                context.close(promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .streaming(let sink) = state { sink.upstreamReadComplete() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that runs until the target closes ends here.
        if case .streaming = state, let end = try? parser.inputEnded() {
            keepAlive = false
            handle(end, context: context)
        }
        self.context = nil
        stopTimer()
        let previous = state
        state = .closed
        switch previous {
        case .awaitingHead(let sink): sink.upstreamFailed(.reset)
        case .streaming(let sink): sink.upstreamFailed(.cutOff)
        case .idle, .closed: break
        }
        onClose?(self)
        onClose = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset: the connection is done; channelInactive tells the sink.
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
        state = .closed
        stopTimer()
        switch previous {
        case .awaitingHead(let sink), .streaming(let sink): sink.upstreamFailed(failure)
        case .idle, .closed: break
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
        // Held strongly (no weak reference's side table); cancelled at close.
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
