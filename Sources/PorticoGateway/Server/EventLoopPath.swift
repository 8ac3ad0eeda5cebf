import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOHTTPTypes
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
final class EventLoopPath: ChannelDuplexHandler, RemovableChannelHandler, UpgradeSink, @unchecked Sendable {
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
    private var current: Call?
    /// A close asked for by the handlers behind while a request was served here.
    private var pendingClose: (CloseMode, EventLoopPromise<Void>?)?
    /// A parse error behind the request served here, answered after it.
    private var heldError: HTTP1ParseError?
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

    /// One request served on the event loop.
    private final class Call: @unchecked Sendable {
        let snapshot: RuntimeSnapshot
        /// The route, exchange and policies' head and answer, from `FastStart`.
        let started: FastStart
        let time: Date
        let method: HTTPRequest.Method
        let pool: LoopConnectionPool
        let declaredLength: Int
        var body: ByteBuffer?
        var requestEnded = false
        var closeAfter: Bool
        var attempts: UpstreamAttempts
        var hashKey: String?
        /// How the request went, for the upstream's breaker; nil until the breaker admitted it.
        var requestOutcome: UpstreamPool.TryOutcome?
        var target: UpstreamTarget?
        /// The target that counts this call in flight, from the send until its try ends or the call does.
        var busyTarget: UpstreamTarget?
        var connection: UpstreamConnection?
        var sent = ContinuousClock.now
        var draining = false
        var responseStarted = false
        var waitingForWritable = false
        var status = 0
        var retryTimer: Scheduled<Void>?
        /// The back-off before the retry that follows draining a 5xx.
        var drainedRetry = Duration.zero
        var done = false
        /// The client's `Upgrade` value, on a route with `websocket: true`: the request is a
        /// handshake, and a 101 turns the connection into `tunnel`.
        var upgrade: String?
        var tunnel: Tunnel?

        init(
            snapshot: RuntimeSnapshot, started: FastStart, method: HTTPRequest.Method, pool: LoopConnectionPool, declaredLength: Int,
            closeAfter: Bool
        ) {
            self.snapshot = snapshot
            self.started = started
            self.time = Date()
            self.method = method
            self.pool = pool
            self.declaredLength = declaredLength
            self.closeAfter = closeAfter
            self.attempts = started.chain.proxy.attempts(for: started.head, start: started.exchange.start)
        }

        var chain: FastChain { started.chain }
        var exchange: Exchange { started.exchange }
        /// The head as the policies left it, before the target's part is added.
        var head: HTTPRequest { started.head }
        var path: String { started.path }

        /// The target no longer counts this call in flight.
        func leaveTarget() {
            busyTarget?.inFlight.subtract(1, ordering: .relaxed)
            busyTarget = nil
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
        return passed
    }

    /// A request's bytes could not be parsed: its answer is 400 (431, 501, 505) and the
    /// connection's end, once the answers before it are out.
    private func parseFailed(_ error: HTTP1ParseError, context: ChannelHandlerContext) {
        if let call = current, !call.done, !call.requestEnded {
            call.closeAfter = true
            call.requestEnded = true
            call.requestOutcome = nil
            return answer(call, error: .malformedRequest(error))
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
                call.exchange.bytesIn.add(buffer.readableBytes, ordering: .relaxed)
                if call.body == nil { call.body = buffer } else { call.body!.writeImmutableBuffer(buffer) }
            case .end:
                call.requestEnded = true
                requestEnded(call)
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
        let found = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate.flatMap(ClientCertificate.init)
        peerCertificate = .some(found)
        return found
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let call = current, !call.done, let tunnel = call.tunnel, tunnel.isStarted {
            // The client ended its upgraded connection: the tunnel's end records the call.
            tunnel.end()
        }
        if let call = current, !call.done {
            call.tunnel?.end()
            call.retryTimer?.cancel()
            call.connection?.abandon()
            call.connection = nil
            finish(call, status: call.responseStarted ? call.status : 499, failure: nil, failureLength: nil, aborted: true)
        }
        if case .passing = mode, (try? parser.inputEnded(buffered: unparsed?.readableBytes ?? 0)) == nil {
            // A request the streaming path reads was cut off.
            context.fireErrorCaught(HTTP1ParseError.truncated)
        }
        unparsed = nil
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A connection error (a reset, TLS) while a request body is still coming: the client's fault.
        if let call = current, !call.requestEnded, !call.done {
            call.closeAfter = true
            call.requestEnded = true
            call.requestOutcome = nil
            answer(call, error: ProxyStage.clientBodyError(error))
            return
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed, let call = current, !call.requestEnded, !call.done {
            call.closeAfter = true
            call.requestEnded = true
            answer(call, error: ProxyStage.clientBodyError(ChannelError.eof))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode closeMode: CloseMode, promise: EventLoopPromise<Void>?) {
        // The streaming path closes a connection it thinks idle (graceful shutdown, the end of
        // its input) without knowing of the request served here: that close waits for its end.
        if let call = current, !call.done {
            call.closeAfter = true
            pendingClose = (closeMode, promise)
            // An upgraded connection has no end of its own to wait for (graceful shutdown).
            if let tunnel = call.tunnel, tunnel.isStarted { tunnel.end() }
            return
        }
        context.close(mode: closeMode, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let call = current, call.waitingForWritable {
            call.waitingForWritable = false
            call.connection?.demand()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the streaming path writes through here; this path writes its own parts with `emit`.
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if emit(head: head, answersHead: passedHeads.first ?? false, promise: promise) { _ = passedHeads.popFirst() }
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
    private func take(_ parsed: HTTP1RequestParser.Head, context: ChannelHandlerContext) -> Call? {
        let start = ContinuousClock.now
        let sent = parsed.request
        let method = sent.method
        // The parser checked the framing: one length of digits, or chunked.
        let declaredLength = parsed.contentLength ?? 0
        guard method != .head, method != .connect, !parsed.chunked, declaredLength <= ProxyStage.smallBodyLimit,
            sent.headerFields[.expect] == nil
        else { return nil }
        let snapshot = gateway.runtime.snapshot
        let rawPath = sent.path ?? "/"
        if snapshot.config.server.healthEndpoints, rawPath.hasPrefix("/healthz") || rawPath.hasPrefix("/readyz") { return nil }
        let peer = context.channel.remoteAddress?.ipAddress
        let loop = context.eventLoop
        var pool: LoopConnectionPool?
        let requestIDs = gateway.requestIDs
        guard
            let started = FastStart.start(
                sent, snapshot: snapshot, peer: peer, at: start,
                requestID: { head in
                    head.headerFields[snapshot.requestIDHeader].flatMap { RequestIDGenerator.isValid($0) ? $0 : nil } ?? requestIDs.next()
                },
                accepts: { chain in
                    pool = chain.proxy.pool.connections.pool(for: loop)
                    return pool != nil
                }),
            let pool
        else { return nil }
        snapshot.inFlight.add(1, ordering: .relaxed)
        // The parser reads nothing after an upgrade request (h2c's too), so the connection ends with it.
        let call = Call(
            snapshot: snapshot, started: started, method: method, pool: pool, declaredLength: declaredLength,
            closeAfter: !parsed.keepAlive || parsed.upgrade)
        // A route with `websocket: true` tunnels a GET's; elsewhere it is a plain request (the
        // request guard removed `Upgrade`). h2c is HTTP/2's own upgrade, not a tunnel's.
        if parsed.upgrade, started.route.upgradeIdleTimeout != nil, method == .get, declaredLength == 0,
            let value = sent.headerFields[.upgrade], !value.lowercased().hasPrefix("h2c")
        {
            call.upgrade = value
        }
        return call
    }

    private func requestEnded(_ call: Call) {
        if let refusal = call.started.refusal { return answer(call, error: refusal) }
        if let (head, body) = call.started.cached, let context {
            var head = head
            addServerTiming(&head, call: call)
            call.status = Int(head.status.code)
            return writeWhole(call, head: head, body: body, context: context, failure: nil)
        }
        if var own = call.started.answer, let context {
            addServerTiming(&own, call: call)
            call.status = Int(own.status.code)
            return writeWhole(call, head: own, body: ByteBuffer(), context: context, failure: nil)
        }
        if (call.body?.readableBytes ?? 0) != call.declaredLength {
            return answer(call, error: .badRequest("The request body could not be read: it was malformed, too slow, or cut off."))
        }
        let proxy = call.chain.proxy
        let now = ContinuousClock.now
        if case .reject(let wait) = proxy.pool.admit(now: now) { return unavailable(call, retryAfter: wait) }
        // Whatever way this ends, the upstream's breaker hears how: a half-open breaker counts on it.
        call.requestOutcome = .failure
        if call.attempts.retryable { proxy.pool.recordRequestForBudget(now: now) }
        if proxy.pool.config.balance == .consistentHash { call.hashKey = proxy.hashKey(for: call.head, exchange: call.exchange) }
        tryNext(call)
    }

    // MARK: Tries

    private func tryNext(_ call: Call) {
        guard !call.done else { return }
        let pool = call.chain.proxy.pool
        let now = ContinuousClock.now
        switch call.attempts.next(choice: pool.choose(hashKey: call.hashKey, excluding: call.attempts.tried, now: now), now: now) {
        case .send(let target, let timeout):
            call.target = target
            target.inFlight.add(1, ordering: .relaxed)
            call.busyTarget = target
            call.sent = ContinuousClock.now
            if call.upgrade != nil { return openUpgrade(call, target: target, timeout: timeout) }
            call.pool.acquire(target) { result in
                guard !call.done else {
                    if case .success(let connection) = result { connection.abandon() }
                    return
                }
                switch result {
                case .success(let connection):
                    call.connection = connection
                    var upstreamHead = call.chain.proxy.upstreamHead(call.head, exchange: call.exchange, target: target.config)
                    if call.declaredLength > 0 || Self.sendsLength(call.method) {
                        upstreamHead.headerFields[.contentLength] = String(call.declaredLength)
                    }
                    connection.send(upstreamHead, body: call.body, timeout: TimeAmount(timeout), to: self)
                case .failure(let failure):
                    self.tryFailed(call, failure)
                }
            }
        case .unavailable(let wait):
            unavailable(call, retryAfter: wait)
        case .fail(let error):
            answer(call, error: error)
        case .retry, .deliver:
            preconditionFailure("choosing a target only sends, fails or is unavailable")
        }
    }

    /// Sends the handshake on a connection of its own; `upstreamSwitched` or the usual
    /// response and failure events follow.
    private func openUpgrade(_ call: Call, target: UpstreamTarget, timeout: Duration) {
        guard let context, let upgrade = call.upgrade, let idle = call.started.route.upgradeIdleTimeout else { return }
        var head = call.chain.proxy.upstreamHead(call.head, exchange: call.exchange, target: target.config)
        head.headerFields[.connection] = "Upgrade"
        head.headerFields[.upgrade] = upgrade
        call.tunnel?.end()
        let tunnel = Tunnel(eventLoop: context.eventLoop, idleTimeout: TimeAmount(idle))
        call.tunnel = tunnel
        UpgradeConnection.open(head, to: target.config, connectTimeout: call.pool.connectTimeout, timeout: TimeAmount(timeout), tunnel: tunnel, sink: self)
    }

    /// Methods whose bodiless requests still say `Content-Length: 0`, as clients send them.
    static func sendsLength(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch
    }

    private func tryFailed(_ call: Call, _ failure: UpstreamFailure) {
        guard let target = call.target else { return }
        call.connection = nil
        let pool = call.chain.proxy.pool
        let now = ContinuousClock.now
        call.exchange.recordUpstream(target: target.config.origin, elapsed: now - call.sent)
        call.leaveTarget()
        pool.report(.failure, target: target, now: now)
        switch call.attempts.failed(failure, now: now, takeBudget: { pool.takeRetryFromBudget(now: now) }) {
        case .retry(let wait):
            retry(call, after: wait)
        case .fail(let error):
            answer(call, error: error)
        default:
            preconditionFailure("a failed try is retried or fails")
        }
    }

    private func retry(_ call: Call, after wait: Duration) {
        call.exchange.retries.add(1, ordering: .relaxed)
        guard let context else { return }
        call.retryTimer = context.eventLoop.scheduleTask(in: TimeAmount(wait)) {
            self.tryNext(call)
        }
    }

    // MARK: Upstream events

    func upstreamHead(_ upstream: HTTPResponse) {
        guard let call = current, let target = call.target else { return }
        let pool = call.chain.proxy.pool
        let now = ContinuousClock.now
        let elapsed = now - call.sent
        call.exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
        let status = upstream.status.code
        let outcome: UpstreamPool.TryOutcome = status >= 500 ? .failure : .success(elapsed)
        pool.report(outcome, target: target, now: now)
        if case .retry(let wait) = call.attempts.answered(status: status, now: now, takeBudget: { pool.takeRetryFromBudget(now: now) }) {
            // Drained to its end, so the connection can be reused; the retry follows `upstreamEnd`.
            call.draining = true
            call.drainedRetry = wait
            return
        }
        call.requestOutcome = outcome
        var head = call.started.respond(to: upstream)
        addServerTiming(&head, call: call)
        call.status = status
        call.responseStarted = true
        emit(head: head, answersHead: false, promise: nil)
    }

    /// The target switched protocols: the 101 goes to the client, and the client's channel
    /// becomes the tunnel's other side (the HTTP decoder out, the tunnel's side after the guard).
    func upstreamSwitched(_ upstream: HTTPResponse) {
        guard let call = current, !call.done, let target = call.target, let tunnel = call.tunnel, let context else { return }
        let pool = call.chain.proxy.pool
        let now = ContinuousClock.now
        let elapsed = now - call.sent
        call.exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
        pool.report(.success(elapsed), target: target, now: now)
        call.requestOutcome = .success(elapsed)
        var head = call.started.respond(to: upstream)
        head.headerFields[.connection] = "Upgrade"
        head.headerFields[.upgrade] = upstream.headerFields[.upgrade] ?? call.upgrade
        addServerTiming(&head, call: call)
        call.status = 101
        call.responseStarted = true
        emit(head: head, answersHead: false, promise: nil)
        flushBytes()
        connection.stopPacing()
        tunnel.onEnd = {
            call.exchange.bytesIn.add(tunnel.bytesFromClient, ordering: .relaxed)
            call.exchange.bytesOut.add(tunnel.bytesFromUpstream, ordering: .relaxed)
            self.finish(call, status: 101, failure: nil, failureLength: nil, aborted: false)
        }
        do {
            // The tunnel's side goes before this handler, which sees no more bytes, and takes
            // whatever the client sent after its request.
            try context.pipeline.syncOperations.addHandler(tunnel.client, position: .before(self))
            if let rest = unparsed, rest.readableBytes > 0 { tunnel.client.received(rest) }
            unparsed = nil
            tunnel.start()
        } catch {
            tunnel.end()
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let call = current, !call.draining else { return }
        call.exchange.bytesOut.add(buffer.readableBytes, ordering: .relaxed)
        emit(body: buffer, promise: nil)
    }

    func upstreamReadComplete() {
        guard let call = current, let context else { return }
        if call.draining { return }
        flushBytes()
        if !context.channel.isWritable {
            call.waitingForWritable = true
            call.connection?.pause()
        }
    }

    func upstreamEnd() {
        guard let call = current, let context else { return }
        call.connection = nil
        if call.draining {
            call.draining = false
            call.leaveTarget()
            return retry(call, after: call.drainedRetry)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        emit(end: nil, promise: promise)
        flushBytes()
        promise.futureResult.whenComplete { result in
            var aborted = false
            if case .failure = result { aborted = true }
            self.finish(call, status: call.status, failure: nil, failureLength: nil, aborted: aborted)
        }
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard let call = current, !call.done else { return }
        if call.responseStarted {
            // Mid-body: the client cannot be told otherwise than by closing.
            call.connection = nil
            finish(call, status: call.status, failure: nil, failureLength: nil, aborted: true)
            context?.close(promise: nil)
            return
        }
        if call.draining {
            call.draining = false
            call.connection = nil
            call.leaveTarget()
            return retry(call, after: call.drainedRetry)
        }
        tryFailed(call, failure)
    }

    // MARK: Answers from the gateway

    private func unavailable(_ call: Call, retryAfter: Duration) {
        let proxy = call.chain.proxy
        guard let fallback = proxy.pool.config.circuitBreaker?.fallback, let context else {
            return answer(call, error: .upstreamUnavailable(upstream: proxy.pool.config.name, retryAfter: retryAfter))
        }
        var head = HTTPResponse(status: .init(code: fallback.status))
        head.headerFields[proxy.requestIDHeader] = call.exchange.requestID
        if let contentType = fallback.contentType { head.headerFields[.contentType] = contentType }
        head.headerFields[.contentLength] = String(fallback.body.count)
        for policy in call.chain.policies.reversed() { policy.respond(&head, exchange: call.exchange) }
        addServerTiming(&head, call: call)
        call.status = fallback.status
        call.exchange.bytesOut.add(fallback.body.count, ordering: .relaxed)
        writeWhole(call, head: head, body: ByteBuffer(bytes: fallback.body), context: context, failure: nil)
    }

    private func answer(_ call: Call, error: GatewayError) {
        guard let context else { return }
        var (head, body) = error.problem(
            requestID: call.exchange.requestID, instance: call.path, requestIDHeader: call.snapshot.requestIDHeader)
        head.headerFields.append(contentsOf: call.exchange.errorFields)
        addServerTiming(&head, call: call)
        call.status = error.status.code
        writeWhole(call, head: head, body: body, context: context, failure: error)
    }

    private func writeWhole(_ call: Call, head: HTTPResponse, body: ByteBuffer, context: ChannelHandlerContext, failure: GatewayError?) {
        call.responseStarted = true
        emit(head: head, answersHead: false, promise: nil)
        emit(body: body, promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        emit(end: nil, promise: promise)
        flushBytes()
        let length = body.readableBytes
        promise.futureResult.whenComplete { result in
            var aborted = false
            if case .failure = result { aborted = true }
            self.finish(call, status: call.status, failure: failure, failureLength: length, aborted: aborted)
        }
    }

    private func addServerTiming(_ head: inout HTTPResponse, call: Call) {
        guard call.snapshot.config.server.serverTiming else { return }
        var timing = "total;dur=\(GatewayHandler.rounded((ContinuousClock.now - call.exchange.start).milliseconds))"
        if let upstream = call.exchange.upstreamElapsed { timing += ", upstream;dur=\(GatewayHandler.rounded(upstream.milliseconds))" }
        head.headerFields.append(HTTPField(name: GatewayHandler.serverTiming, value: timing))
    }

    // MARK: The end of a call

    private func finish(_ call: Call, status: Int, failure: GatewayError?, failureLength: Int?, aborted: Bool) {
        guard !call.done else { return }
        call.done = true
        // Also when the client left while the target was being asked.
        call.leaveTarget()
        if var outcome = call.requestOutcome {
            // A client that went away before any answer abandoned the request; no fault of the upstream's.
            if aborted, !call.responseStarted { outcome = .clientFault }
            call.chain.proxy.pool.reportRequest(outcome, now: .now)
        }
        call.exchange.finish()
        call.snapshot.inFlight.subtract(1, ordering: .releasing)
        gateway.log(
            time: call.time, requestID: call.exchange.requestID, method: call.method.rawValue, path: call.path,
            exchange: call.exchange, status: status, failure: failure, failureLength: failureLength, start: call.exchange.start,
            clientAddress: call.exchange.clientAddress, traceID: call.exchange.trace.traceID, aborted: aborted, protocolVersion: "1.1")
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
