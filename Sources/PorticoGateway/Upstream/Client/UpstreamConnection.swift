import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// One kept-alive HTTP/1.1 connection to a target, used by one request at a time, on the event
/// loop of the client connection that uses it.
///
/// The last handler of the upstream channel's pipeline (after NIO's HTTP/1.1 client codec and
/// the HTTP types conversion). It reads only when asked to: while idle in its pool (so that a
/// target closing it is noticed at once), and while a response streams, when the sink wants
/// more. Every method runs on `eventLoop`.
final class UpstreamConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPRequestPart

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
    private var readPending = false
    private var wantsRead = false
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
        uses += 1
        state = .awaitingHead(sink)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        arm(timeout, failing: .timeout)
        requestRead()
    }

    /// The sink can take more of the body.
    func demand() {
        eventLoop.assertInEventLoop()
        guard case .streaming = state else { return }
        requestRead()
    }

    /// The sink no longer wants this response (its client went away): close, never reuse.
    func abandon() {
        eventLoop.assertInEventLoop()
        switch state {
        case .awaitingHead, .streaming:
            state = .closed
            timer?.cancel()
            context?.close(promise: nil)
        case .idle, .closed:
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
        case .head(let head):
            guard case .awaitingHead(let sink) = state else { return fail(.malformed) }
            if head.status.kind == .informational { return }
            keepAlive = Self.keepsAlive(head)
            state = .streaming(sink)
            arm(bodyIdleTimeout, failing: .cutOff)
            sink.upstreamHead(head)
        case .body(let buffer):
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            arm(bodyIdleTimeout, failing: .cutOff)
            sink.upstreamBody(buffer)
        case .end:
            guard case .streaming(let sink) = state else { return fail(.malformed) }
            timer?.cancel()
            timer = nil
            state = .idle
            sink.upstreamEnd()
            if keepAlive, self.context != nil {
                onReusable?(self)
                // Idle in the pool: keep a read posted, so a close by the target is seen now.
                requestRead()
            } else {
                state = .closed
                context.close(promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readPending = false
        switch state {
        case .awaitingHead:
            requestRead()
        case .streaming(let sink):
            sink.upstreamReadComplete()
        case .idle, .closed:
            break
        }
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
        // Reads come from `requestRead` only (autoRead is off); drop the pipeline's own.
    }

    // MARK: Helpers

    private func requestRead() {
        guard let context, !readPending else { return }
        readPending = true
        context.read()
    }

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
        timer = eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self else { return }
            self.fail(failure)
        }
    }

    /// HTTP/1.1 keeps the connection unless the target says `close`.
    static func keepsAlive(_ head: HTTPResponse) -> Bool {
        for value in head.headerFields[values: .connection] {
            for token in value.split(separator: ",") where token.trimmingSpaces.lowercased() == "close" { return false }
        }
        return true
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
