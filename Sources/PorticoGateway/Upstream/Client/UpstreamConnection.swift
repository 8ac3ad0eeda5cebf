import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import PorticoConfig

/// One kept-alive HTTP/1.1 connection to a target, used by one request at a time, on the event
/// loop of the client connection that uses it.
///
/// The last handler of the upstream channel's pipeline, after NIO's HTTP/1.1 client codec; it
/// converts between HTTPTypes and NIO's HTTP/1 types itself (one handler fewer for each part to
/// pass). The channel reads on its own (so read interest stays registered,
/// and a target closing an idle connection is noticed at once) until the sink pauses it because
/// its client cannot take more; `demand()` lets reads go on. Every method runs on `eventLoop`.
final class UpstreamConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPClientRequestPart

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
    private var timer: Scheduled<Void>?
    /// What the timer checks when it fires: the failure, the allowed silence, and the last activity.
    /// Body parts only move `lastActivity`; the timer re-arms itself for what is left, so a
    /// streaming body costs no timer per part.
    private var watch: (failure: UpstreamFailure, limit: TimeAmount, since: NIODeadline)?
    /// The sink asked for no more reads for now; a read asked for meanwhile waits in `readHeld`.
    private var paused = false
    private var readHeld = false
    /// Requests this connection has carried, for the pool's bookkeeping.
    private(set) var uses = 0
    let bodyIdleTimeout: TimeAmount

    init(eventLoop: any EventLoop, bodyIdleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.bodyIdleTimeout = bodyIdleTimeout
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
        // HTTPTypes validated the head; the conversion only fails for a head without a path,
        // which the gateway never makes.
        guard let converted = try? HTTPRequestHead(head) else {
            sink.upstreamFailed(.malformed)
            // Closed rather than left idle and out of the pool, which would hold its place there.
            context.close(promise: nil)
            return
        }
        uses += 1
        state = .awaitingHead(sink)
        context.write(wrapOutboundOut(.head(converted)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
            timer?.cancel()
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
        switch unwrapInboundIn(data) {
        case .head(let received):
            guard case .awaitingHead(let sink) = state else { return fail(.malformed) }
            if received.status.code < 200 { return }
            // A field name that is not a token: the target is broken.
            guard let head = try? HTTPResponse(received) else { return fail(.malformed) }
            keepAlive = received.isKeepAlive
            state = .streaming(sink)
            // The head timer, still pending, becomes the body's idle timer.
            watch = (.cutOff, bodyIdleTimeout, .now())
            sink.upstreamHead(head)
        case .body(let buffer):
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            watch?.since = .now()
            sink.upstreamBody(buffer)
        case .end:
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            timer?.cancel()
            timer = nil
            watch = nil
            state = .idle
            sink.upstreamEnd()
            if keepAlive, self.context != nil {
                // Idle in the pool, reading, so that a close by the target is seen at once.
                demand()
                onReusable?(self)
            } else {
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
        self.context = nil
        timer?.cancel()
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
        // A decoding error or a reset: the connection is done; channelInactive tells the sink.
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
        timer?.cancel()
        switch previous {
        case .awaitingHead(let sink), .streaming(let sink): sink.upstreamFailed(failure)
        case .idle, .closed: break
        }
        context?.close(promise: nil)
    }

    private func arm(_ timeout: TimeAmount, failing failure: UpstreamFailure) {
        timer?.cancel()
        watch = (failure, timeout, .now())
        schedule(at: .now() + timeout)
    }

    private func schedule(at deadline: NIODeadline) {
        // Held strongly (no weak reference's side table); cancelled at the end and at close.
        timer = eventLoop.scheduleTask(deadline: deadline) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        guard let watch else { return }
        let due = watch.since + watch.limit
        if due > .now() { return schedule(at: due) }
        fail(watch.failure)
    }
}
