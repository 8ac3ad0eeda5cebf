import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import PorticoConfig

/// Serves the common request on the event loop of its client connection, end to end: guard,
/// route, fast policies, an upstream connection from this loop's pool, the response streamed
/// back, the call record. No task, no continuation, no thread hop.
///
/// It sits in the connection's pipeline after the connection guard and before Hummingbird's
/// async channel; it parses the connection's requests (`HTTP1RequestParser`) and it is the
/// connection's response encoder (`HTTP1ResponseEncoder`): it writes
/// the bytes of every response, its own and the streaming path's, at the connection guard's
/// context, and tells the guard's pace of every head, body and end. A request it cannot serve
/// so (streamed or large bodies, `HEAD`, the portal, health probes, TLS targets, cache misses,
/// a split or the mock, a policy that must wait) it
/// passes on whole to the streaming path behind it, and it passes everything on while that
/// path has a request open, so that answers leave in the order the requests came.
///
/// Everything here runs on the connection's event loop (hence `@unchecked Sendable`: the timers
/// and write promises it schedules complete on that loop). Its closures hold it strongly: a weak
/// reference gives an object a side table, and every retain and release of it then takes the
/// slow path. Each closure ends soon (a write completes or fails at close; timers are cancelled
/// when the channel goes inactive).
final class EventLoopPath: ChannelDuplexHandler, RemovableChannelHandler, LoopClient, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Mode {
        /// No request open.
        case idle
        /// The streaming path has this many requests open; everything goes to it.
        case passing(open: Int)
        /// This handler serves a request.
        case serving
    }

    let gateway: GatewayHandler
    /// The connection's guard: its pace hears of every part, and its raw context takes the bytes.
    let connection: ConnectionGuard
    private var encoder = HTTP1ResponseEncoder()
    /// For each request passed to the streaming path and not yet answered: whether it is `HEAD`.
    private var passedHeads = CircularBuffer<Bool>()
    /// How long a kept-alive connection may wait for its next request (`server.idle-timeout`).
    let idleTimeout: TimeAmount?
    /// One pending check at a time: becoming idle only notes the time, and the check, when it
    /// fires, closes the connection or waits for what is left (no timer per request).
    private var idleTimer: Scheduled<Void>?
    private var idleSince = NIODeadline.now()
    private var mode = Mode.idle {
        didSet {
            guard case .idle = mode else { return }
            idleSince = .now()
            if idleTimer == nil { armIdleTimer() }
        }
    }
    private var context: ChannelHandlerContext?
    /// The connection's request parser, and the bytes it has not parsed yet: pipelined requests
    /// wait here, unparsed, while one is served.
    private var parser: HTTP1RequestParser
    private var unparsed: ByteBuffer?
    private var readHeld = false
    private var current: LoopCall?
    /// A close asked for by the handlers behind while a request was served here.
    private var pendingClose: (CloseMode, EventLoopPromise<Void>?)?
    /// A parse error behind the request served here, answered after it.
    private var heldError: HTTP1ParseError?
    /// Whether the client has closed its side, and whether the streaming path heard that the
    /// request it reads was cut off by it.
    private var inputClosed = false
    private var reportedCutOff = false
    /// The connection's verified client certificate, read once after the handshake; `.some(nil)`
    /// when there is none.
    private var peerCertificate: ClientCertificate??

    private static let noBytes = ByteBuffer()
    /// Unparsed bytes past which the socket is not read while a request is served here.
    static let unparsedBeforePausing = 64 * 1024

    init(gateway: GatewayHandler, connection: ConnectionGuard, idleTimeout: TimeAmount?, parser: HTTP1RequestParser) {
        self.gateway = gateway
        self.connection = connection
        self.idleTimeout = idleTimeout
        self.parser = parser
    }

    private func armIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
        guard let idleTimeout, let context, context.channel.isActive else { return }
        idleTimer = context.eventLoop.scheduleTask(deadline: idleSince + idleTimeout) {
            self.idleTimer = nil
            // Busy now: the next idle spell arms the check again.
            guard case .idle = self.mode else { return }
            if self.idleSince + idleTimeout > .now() { return self.armIdleTimer() }
            self.context?.close(promise: nil)
        }
    }

    // MARK: Inbound

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unparsed.append(read: unwrapInboundIn(data))
        parseAvailable(context: context)
    }

    /// Parses what has arrived, part by part, until a request served here has all it needs (the
    /// rest waits, unparsed, until it is answered), the bytes run out, or the parser stops.
    /// Returns whether a part was handed to the streaming path.
    @discardableResult
    private func parseAvailable(context: ChannelHandlerContext) -> Bool {
        var passed = false
        while true {
            if case .serving = mode, current?.requestEnded ?? true { break }
            if heldError != nil { break }
            // An empty buffer still yields the end of a request without a body.
            var buffer = unparsed ?? Self.noBytes
            let event: HTTP1RequestParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                unparsed = nil
                parseFailed(error, context: context)
                break
            }
            unparsed = buffer.readableBytes > 0 ? buffer : nil
            guard let event else { break }
            if case .passing = mode { passed = true }
            switch event {
            case .head(var head):
                // Only the listener says which client certificate was verified.
                let certificate = clientCertificate(context)
                if certificate != nil || head.request.headerFields.contains(where: ClientCertificate.isOwnField) {
                    ClientCertificate.apply(certificate, to: &head.request.headerFields)
                }
                connection.headReceived(hasBody: head.chunked || (head.contentLength ?? 0) > 0)
                if !head.keepAlive, !head.connectionClose {
                    // HTTP/1.0 without keep-alive: the streaming path closes after it too.
                    head.request.headerFields.append(HTTPField(name: .connection, value: "close"))
                }
                handle(.head(head), context: context)
            case .body(let bytes):
                connection.bodyArrived(bytes.readableBytes)
                handle(event, context: context)
            case .end:
                connection.requestEnded()
                handle(event, context: context)
            }
            if case .passing = mode { passed = true }
        }
        // Pipelined bytes parsed after a half-close: a request they began can never end.
        if inputClosed { reportCutOffPassedRequest(context) }
        return passed
    }

    /// A request's bytes could not be parsed: its answer is 400 (431, 501, 505) and the
    /// connection's end, once the answers before it are out.
    private func parseFailed(_ error: HTTP1ParseError, context: ChannelHandlerContext) {
        if let call = current, !call.done, !call.requestEnded {
            return call.requestFailed(.malformedRequest(error))
        }
        switch mode {
        case .passing:
            // The streaming path has a request open: it hears of the error as from NIO's decoder.
            context.fireErrorCaught(error)
        case .serving:
            heldError = error
        case .idle:
            answerMalformed(error, context: context)
        }
    }

    /// The answer to bytes that are not a request: problem+json, then the connection closes.
    private func answerMalformed(_ error: HTTP1ParseError, context: ChannelHandlerContext) {
        let requestID = gateway.requestIDs.next()
        let snapshot = gateway.runtime.snapshot
        var (head, body) = GatewayError.malformedRequest(error).problem(
            requestID: requestID, instance: "", requestIDHeader: snapshot.requestIDHeader)
        head.headerFields[.connection] = "close"
        mode = .serving
        emit(head: head, answersHead: false, promise: nil)
        emit(body: body, promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        emit(end: nil, promise: promise)
        flushBytes()
        promise.futureResult.whenComplete { _ in context.close(promise: nil) }
    }

    /// A parsed part: served here or passed on.
    private func handle(_ event: HTTP1RequestParser.Event, context: ChannelHandlerContext) {
        switch mode {
        case .passing(let open):
            if case .head(let head) = event {
                gateway.runtime.paths.streaming.add(1, ordering: .relaxed)
                mode = .passing(open: open + 1)
                passedHeads.append(head.request.method == .head)
            }
            context.fireChannelRead(wrapInboundOut(event.part))
        case .serving:
            // `parseAvailable` stops at the end of the request served here.
            guard let call = current, !call.requestEnded else { return }
            switch event {
            case .head:
                return
            case .body(let buffer):
                call.received(buffer)
            case .end:
                call.requestComplete()
            }
        case .idle:
            guard case .head(let head) = event else {
                // Body without a head: the parser never does this; let the streaming path judge.
                context.fireChannelRead(wrapInboundOut(event.part))
                return
            }
            if let call = take(head, context: context) {
                gateway.runtime.paths.eventLoop.add(1, ordering: .relaxed)
                mode = .serving
                current = call
            } else {
                gateway.runtime.paths.streaming.add(1, ordering: .relaxed)
                mode = .passing(open: 1)
                passedHeads.append(head.request.method == .head)
                context.fireChannelRead(wrapInboundOut(event.part))
            }
        }
    }

    /// The client certificate a TLS listener with `client-ca` verified on this connection.
    private func clientCertificate(_ context: ChannelHandlerContext) -> ClientCertificate? {
        if let known = peerCertificate { return known }
        let found = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate
            .flatMap(ClientCertificate.init)
        peerCertificate = .some(found)
        return found
    }

    func channelInactive(context: ChannelHandlerContext) {
        current?.clientLeft()
        reportCutOffPassedRequest(context)
        unparsed = nil
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A connection error (a reset, TLS) while a request body is still coming: the client's fault.
        if let call = current, !call.requestEnded, !call.done {
            return call.requestFailed(ProxyStage.clientBodyError(error))
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, let call = current,
            !call.requestEnded, !call.done
        {
            call.requestFailed(ProxyStage.clientBodyError(ChannelError.eof))
        }
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            // A half-close (listeners allow it) mid-body must not reach the target as a short body.
            inputClosed = true
            reportCutOffPassedRequest(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Tells the streaming path, once, that the request it reads was cut off (a half-close or the
    /// end of the connection before the body's end), so that it answers 400 and blames the client
    /// rather than sending the target a short body and blaming the target for the answer.
    private func reportCutOffPassedRequest(_ context: ChannelHandlerContext) {
        guard !reportedCutOff, case .passing = mode,
            (try? parser.inputEnded(buffered: unparsed?.readableBytes ?? 0)) == nil
        else { return }
        reportedCutOff = true
        context.fireErrorCaught(HTTP1ParseError.truncated)
    }

    func close(context: ChannelHandlerContext, mode closeMode: CloseMode, promise: EventLoopPromise<Void>?) {
        // The streaming path closes a connection it thinks idle (graceful shutdown, the end of
        // its input) without knowing of the request served here: that close waits for its end.
        if let call = current, !call.done {
            call.closeAfter = true
            pendingClose = (closeMode, promise)
            // An upgraded connection has no end of its own to wait for (graceful shutdown).
            call.endTunnel()
            return
        }
        context.close(mode: closeMode, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { current?.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the streaming path writes through here; this path writes its own parts with `emit`.
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if emit(head: head, answersHead: passedHeads.first ?? false, promise: promise) {
                _ = passedHeads.popFirst()
            }
        case .body(let buffer):
            emit(body: buffer, promise: promise)
        case .end(let trailers):
            emit(end: trailers, promise: promise)
            if case .passing(let open) = mode {
                mode = open > 1 ? .passing(open: open - 1) : .idle
                if case .idle = mode { replayHeld(context: context) }
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        connection.rawContext?.flush()
    }

    // MARK: Bytes out

    /// Writes a response head; true when it is the final head (not a 1xx).
    @discardableResult
    private func emit(head: HTTPResponse, answersHead: Bool, promise: EventLoopPromise<Void>?) -> Bool {
        guard let raw = connection.rawContext else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return true
        }
        var buffer = raw.channel.allocator.buffer(capacity: 512)
        let final = encoder.encode(head: head, answersHead: answersHead, into: &buffer)
        raw.write(NIOAny(buffer), promise: promise)
        return final
    }

    private func emit(body: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let raw = connection.rawContext else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch encoder.encode(body: body, allocator: raw.channel.allocator) {
        case .asIs(let bytes):
            raw.write(NIOAny(bytes), promise: promise)
        case .chunk(let size, let part):
            raw.write(NIOAny(size), promise: nil)
            raw.write(NIOAny(part), promise: nil)
            raw.write(NIOAny(HTTP1ResponseEncoder.chunkEnd), promise: promise)
        case .nothing:
            promise?.succeed(())
        }
    }

    /// Ends the response; the guard's pace hears of it. `promise` completes after every byte before it.
    private func emit(end trailers: HTTPFields?, promise: EventLoopPromise<Void>?) {
        connection.responseEnded()
        guard let raw = connection.rawContext else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if let bytes = encoder.encodeEnd(trailers: trailers, allocator: raw.channel.allocator) {
            raw.write(NIOAny(bytes), promise: promise)
        } else if let promise {
            raw.write(NIOAny(HTTP1ResponseEncoder.nothing), promise: promise)
        }
    }

    private func flushBytes() {
        connection.rawContext?.flush()
    }

    func read(context: ChannelHandlerContext) {
        // While a request is served here and its body is in, pipelined requests wait unparsed; past
        // a bound, they wait in the socket. (Holding every read would drop the socket's read
        // interest and register it again for each request: two epoll_ctl calls.) After an upgrade
        // request, the bytes are the tunnel's, read when it starts.
        if parser.isStopped || (unparsed?.readableBytes ?? 0) >= Self.unparsedBeforePausing {
            readHeld = true
            return
        }
        context.read()
    }

    // MARK: Taking a request

    /// The call for `head` if this path can serve it, else nil (the streaming path takes it).
    private func take(_ parsed: HTTP1RequestParser.Head, context: ChannelHandlerContext) -> LoopCall? {
        let sent = parsed.request
        // The parser checked the framing: one length of digits, or chunked.
        guard !parsed.chunked,
            let call = LoopCall.start(
                sent, declaredLength: parsed.contentLength ?? 0,
                // The parser reads nothing after an upgrade request (h2c's too), so the connection ends with it.
                closeAfter: !parsed.keepAlive || parsed.upgrade, gateway: gateway, client: self,
                channel: context.channel)
        else { return nil }
        // A route with `websocket: true` tunnels a GET's; elsewhere it is a plain request (the
        // request guard removed `Upgrade`). h2c is HTTP/2's own upgrade, not a tunnel's.
        if parsed.upgrade, call.started.route.upgradeIdleTimeout != nil, call.method == .get, call.declaredLength == 0,
            let value = sent.headerFields[.upgrade], !value.lowercased().hasPrefix("h2c")
        {
            call.upgrade = value
        }
        return call
    }

    // MARK: LoopClient

    /// Set in `handlerAdded`, before any call starts.
    var eventLoop: any EventLoop { context!.eventLoop }
    var isClientWritable: Bool { context?.channel.isWritable ?? false }
    var protocolVersion: String { "1.1" }

    func write(head: HTTPResponse) { emit(head: head, answersHead: current?.method == .head, promise: nil) }
    func write(body: ByteBuffer) { emit(body: body, promise: nil) }
    func write(end trailers: HTTPFields?, promise: EventLoopPromise<Void>) { emit(end: trailers, promise: promise) }
    func flushResponse() { flushBytes() }
    func abortResponse() { context?.close(promise: nil) }

    func holdRequestBody(_ hold: Bool) {
        // HTTP/1.1 requests served here have a body of known, small length, read whole.
    }

    func callFinished(_ call: LoopCall, aborted: Bool) {
        guard current === call else { return }
        current = nil
        mode = .idle
        guard let context else { return }
        if call.closeAfter || aborted || !call.requestEnded {
            let promise = pendingClose?.1
            pendingClose = nil
            context.close(mode: .all, promise: promise)
            return
        }
        replayHeld(context: context)
    }

    /// The client's channel becomes the tunnel's other side: the tunnel's side goes before this
    /// handler, which sees no more bytes, and takes whatever the client sent after its request.
    func startTunnel(_ tunnel: Tunnel) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        connection.stopPacing()
        try context.pipeline.syncOperations.addHandler(tunnel.client, position: .before(self))
        if let rest = unparsed, rest.readableBytes > 0 { tunnel.client.received(rest) }
        unparsed = nil
        tunnel.start()
    }

    /// Parses the pipelined requests that waited, answers a parse error among them, then lets
    /// reads go on.
    private func replayHeld(context: ChannelHandlerContext) {
        // The async channel behind delivers what it was handed at the end of a read.
        if parseAvailable(context: context) { context.fireChannelReadComplete() }
        if let error = heldError, case .idle = mode {
            heldError = nil
            answerMalformed(error, context: context)
            return
        }
        if readHeld, !parser.isStopped, (unparsed?.readableBytes ?? 0) < Self.unparsedBeforePausing {
            readHeld = false
            context.read()
        }
    }
}
