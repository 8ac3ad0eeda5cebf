import HTTPTypes
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2

/// Serves an HTTP/2 stream's request on the event loop of its connection, as `EventLoopPath`
/// does for HTTP/1.1: the same `LoopCall`, with this loop's upstream pool, and no task. It sits
/// after the stream's codec and before the stream's async channel, which serves whatever this
/// handler passes on (the streaming path); `EdgeHTTP2Connection` starts a task for a stream
/// only then.
///
/// First it makes the request head say what the listener knows, as `EventLoopPath` does: the
/// scheme is the listener's (a client's `:scheme` is its own claim), and the
/// `Portico-Client-Cert-*` fields are the connection's verified client certificate, whatever the
/// client sent under those names. The certificate is read once per connection, not per stream.
///
/// A head with a `Content-Length` is decided at once; a body over `ProxyStage.smallBodyLimit`
/// to an upstream with `protocol: h2` then goes to it as it comes. A head without one is held until the
/// stream's next part: its end (a request without a body, the common case) is served here; a
/// body means a streamed request, and head and body go on to the streaming path. Either way the
/// policies run once, on the path that serves the request.
final class HTTP2StreamPath: ChannelDuplexHandler, RemovableChannelHandler, LoopClient, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Nothing read yet.
        case awaitingHead
        /// A head without a length, waiting to see whether a body follows.
        case holding(HTTPRequest)
        /// Served here.
        case serving(LoopCall)
        /// The streaming path has it.
        case passing
    }

    let gateway: GatewayHandler
    /// Whether the connection is TLS, which makes the scheme `https`.
    let secure: Bool
    /// The connection's verified client certificate, if it presented one.
    let certificate: ClientCertificate?
    private var state = State.awaitingHead
    private var context: ChannelHandlerContext?
    private var holdingReads = false
    private var readHeld = false
    /// Hands the stream to the task that serves the streaming path, before the first part is
    /// passed on; never used for a stream served here.
    private let handoff: EdgeHTTP2Connection.Handoff
    private var handedOff = false
    /// Whether the client's request reached its end (its END_STREAM).
    private var clientEnded = false

    init(
        gateway: GatewayHandler, secure: Bool, certificate: ClientCertificate?, handoff: EdgeHTTP2Connection.Handoff
    ) {
        self.gateway = gateway
        self.secure = secure
        self.certificate = certificate
        self.handoff = handoff
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .end = part { clientEnded = true }
        if case .head(var head) = part {
            head.scheme = secure ? "https" : "http"
            ClientCertificate.apply(certificate, to: &head.headerFields)
            part = .head(head)
        }
        switch (state, part) {
        case (.awaitingHead, .head(let head)):
            let lengths = head.headerFields[values: .contentLength]
            if lengths.isEmpty, GRPCStatus.isGRPC(head.headerFields) {
                // gRPC streams its messages, and a client may wait for the server before it
                // sends one: the request goes to the target at once, its body as it comes.
                guard let call = start(head, declaredLength: 0, streamed: true, context: context) else {
                    state = .passing
                    return forward(context: context, wrapInboundOut(.head(Self.markedStreamed(head))))
                }
                state = .serving(call)
                return call.begin()
            }
            if lengths.isEmpty {
                state = .holding(head)
                return
            }
            guard lengths.count == 1, let length = Self.length(lengths[0]) else {
                gateway.runtime.paths.streaming.add(1, ordering: .relaxed)
                return pass(wrapInboundOut(part), context: context)
            }
            // A large body goes to an `h2` upstream as it comes; to others it takes the streaming path.
            let streamed = length > ProxyStage.smallBodyLimit
            guard let call = start(head, declaredLength: length, streamed: streamed, context: context) else {
                return pass(wrapInboundOut(part), context: context)
            }
            state = .serving(call)
            if streamed { call.begin() }
        case (.holding(let head), .end):
            guard let call = start(head, declaredLength: 0, context: context) else {
                state = .passing
                forward(context: context, wrapInboundOut(.head(head)))
                return forward(context: context, data)
            }
            state = .serving(call)
            call.requestComplete()
        case (.holding(let head), .body(let buffer)) where canStream(head, context: context):
            // A body without a length, to an upstream that takes it as it comes.
            guard case .serving(let call) = state else { return }
            call.begin()
            call.received(buffer)
        case (.holding(let head), _):
            gateway.runtime.paths.streaming.add(1, ordering: .relaxed)
            state = .passing
            forward(context: context, wrapInboundOut(.head(Self.markedStreamed(head))))
            forward(context: context, data)
        case (.serving(let call), .body(let buffer)):
            guard !call.requestEnded else { return }
            call.received(buffer)
        case (.serving(let call), .end(let trailers)):
            guard !call.requestEnded else { return }
            call.requestComplete(trailers: trailers)
        case (.serving, .head):
            break
        case (.passing, .head):
            pass(wrapInboundOut(part), context: context)  // the head as set above
        case (.awaitingHead, _), (.passing, _):
            pass(data, context: context)
        }
    }

    private func pass(_ data: NIOAny, context: ChannelHandlerContext) {
        if case .awaitingHead = state { state = .passing }
        forward(context: context, data)
    }

    /// Passes `data` on to the streaming path, handing the stream to it first.
    private func forward(context: ChannelHandlerContext, _ data: NIOAny) {
        if !handedOff {
            handedOff = true
            handoff.pass(context.channel)
        }
        context.fireChannelRead(data)
    }

    /// Whether the held `head`'s body can go to its target as it comes; if so the call serves it.
    private func canStream(_ head: HTTPRequest, context: ChannelHandlerContext) -> Bool {
        guard
            let call = LoopCall.start(
                head, declaredLength: 0, streamed: true, closeAfter: false, gateway: gateway, client: self,
                channel: context.channel)
        else { return false }
        gateway.runtime.paths.eventLoop.add(1, ordering: .relaxed)
        state = .serving(call)
        return true
    }

    /// The call for `head`, counted on the path that takes it.
    private func start(
        _ head: HTTPRequest, declaredLength: Int, streamed: Bool = false, context: ChannelHandlerContext
    ) -> LoopCall? {
        guard
            let call = LoopCall.start(
                head, declaredLength: declaredLength, streamed: streamed, closeAfter: false, gateway: gateway,
                client: self,
                channel: context.channel)
        else {
            gateway.runtime.paths.streaming.add(1, ordering: .relaxed)
            return nil
        }
        gateway.runtime.paths.eventLoop.add(1, ordering: .relaxed)
        return call
    }

    /// `head`, for a body without a declared length: on the streaming path, which frames
    /// requests as HTTP/1.1 does, that is what `chunked` says (without it the body would be taken
    /// for none). The field is this hop's own and never reaches the target.
    static func markedStreamed(_ head: HTTPRequest) -> HTTPRequest {
        var head = head
        head.headerFields[.transferEncoding] = "chunked"
        return head
    }

    /// A `Content-Length` of at most 18 digits; nil for anything else, which the streaming path judges.
    static func length(_ value: String) -> Int? {
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= 18, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handedOff = true  // a stream gone is handed to no one
        if case .serving(let call) = state { call.clientLeft() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream error (a reset, a bad frame) while the request body is still coming: the client's fault.
        if case .serving(let call) = state, !call.requestEnded, !call.done {
            return call.requestFailed(ProxyStage.clientBodyError(error))
        }
        context.fireErrorCaught(error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .serving(let call) = state { call.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: LoopClient

    /// Set in `handlerAdded`, before any call starts.
    var eventLoop: any EventLoop { context!.eventLoop }
    var isClientWritable: Bool { context?.channel.isWritable ?? false }
    var protocolVersion: String { "2" }

    func write(head: HTTPResponse) {
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func write(body: ByteBuffer) {
        guard body.readableBytes > 0 else { return }
        context?.write(wrapOutboundOut(.body(body)), promise: nil)
    }

    func write(end trailers: HTTPFields?, promise: EventLoopPromise<Void>) {
        guard let context else { return promise.fail(ChannelError.ioOnClosedChannel) }
        context.write(wrapOutboundOut(.end(trailers)), promise: promise)
    }

    func flushResponse() {
        context?.flush()
    }

    func abortResponse() {
        // Closing a stream resets it: the client sees the response was cut off.
        context?.close(promise: nil)
    }

    func callFinished(_ call: LoopCall, aborted: Bool) {
        // The stream closes once both sides ended. A cut-off answer or a broken request resets it
        // (CANCEL); a whole answer to a request still coming stops the client's sending.
        guard let context else { return }
        if aborted || call.closeAfter { return context.close(promise: nil) }
        if !call.requestEnded { Self.stopSending(context) }
    }

    /// Asks the client to stop sending a request whose whole answer has gone: RST_STREAM with
    /// NO_ERROR after the response, as RFC 9113 §8.1 says, which a client takes as the end of a
    /// good exchange (closing the stream would send CANCEL, which it takes as a failure).
    static func stopSending(_ context: ChannelHandlerContext) {
        // Written below this handler, past the codec, which takes HTTP parts only.
        guard
            let codec = try? context.pipeline.syncOperations.context(
                handlerType: HTTP2FramePayloadToHTTPServerCodec.self)
        else { return context.close(promise: nil) }
        codec.writeAndFlush(NIOAny(HTTP2Frame.FramePayload.rstStream(.noError)), promise: nil)
    }

    func holdRequestBody(_ hold: Bool) {
        holdingReads = hold
        if !hold, readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    /// The streaming path's response. Its whole answer to a request still coming (refused at
    /// the head, say) stops the client's sending once the answer's end has left, as a call here
    /// does; the streaming path would otherwise read the rest of the body, however long, to its end.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .passing = state, !clientEnded, case .end = unwrapOutboundIn(data) else {
            return context.write(data, promise: promise)
        }
        let written = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: written)
        written.futureResult.whenSuccess {
            if !self.clientEnded, let context = self.context { Self.stopSending(context) }
        }
    }

    func read(context: ChannelHandlerContext) {
        // While a streamed body's target cannot take more, the stream's window stays shut.
        if holdingReads {
            readHeld = true
            return
        }
        context.read()
    }

    func startTunnel(_ tunnel: Tunnel) throws {
        // No call on a stream is a handshake (`upgrade` is set for HTTP/1.1 only).
        throw ChannelError.operationUnsupported
    }
}
