import Foundation
import HTTPTypes
import NIOCore
import PorticoConfig

/// One request served on the event loop of its client, end to end: its tries against this
/// loop's upstream pool, the response streamed back through its `LoopClient`, the answers the
/// gateway gives itself, and the call record. The client side (`EventLoopPath` for HTTP/1.1,
/// `HTTP2StreamPath` for an HTTP/2 stream) parses the request, hands over its body and end, and
/// writes the response in its framing; this type never sees the wire.
///
/// It is the sink of its upstream connection, so a late event from a connection it gave up
/// reaches this call (and is ignored once it is done), never the next one.
///
/// Everything here runs on the client's event loop (hence `@unchecked Sendable`).
final class LoopCall: UpgradeSink, @unchecked Sendable {
    let gateway: GatewayHandler
    let client: any LoopClient
    let snapshot: RuntimeSnapshot
    /// The route, exchange and policies' head and answer, from `FastStart`.
    private(set) var started: FastStart
    let time: Date
    let method: HTTPRequest.Method
    let pool: LoopConnectionPool
    let declaredLength: Int
    /// A request whose body goes to the target as it comes, to an upstream with `protocol: h2`:
    /// an HTTP/2 stream with no length (gRPC's streams; `declaredLength` is 0 and does not apply),
    /// or with a length over `ProxyStage.smallBodyLimit` (`declaredLength` is sent on and held to).
    let streamed: Bool
    /// A gRPC request: gateway errors are answered as gRPC statuses, and the target's
    /// `grpc-status` decides how the try counts for health and breakers.
    let isGRPC: Bool
    /// Whether the client asked for trailers (`TE: trailers`), which gRPC servers require.
    let wantsTrailers: Bool
    /// The body received and not yet sent (all of it, for a request sent whole).
    var body: ByteBuffer?
    var requestEnded = false
    var closeAfter: Bool
    private var attempts: UpstreamAttempts
    private var hashKey: String?
    /// How the request went, for the upstream's breaker; nil until the breaker admitted it.
    var requestOutcome: UpstreamPool.TryOutcome?
    private var target: UpstreamTarget?
    /// The target that counts this call in flight, from the send until its try ends or the call does.
    private var busyTarget: UpstreamTarget?
    private var connection: (any UpstreamLeg)?
    /// The HTTP/2 stream a streamed request's body goes on, once its head is written.
    private var stream: H2UpstreamStream?
    /// Whether a streamed request's body began to leave: it can no longer be tried again.
    private var bodyForwarded = false
    /// The bytes of the body received so far.
    private var receivedLength = 0
    /// Whether the client's reads are held until the target's leg takes more.
    private var holdingClient = false
    /// The outcome of a gRPC try, reported when its trailers tell how it went.
    private var pendingOutcome: (target: UpstreamTarget, outcome: UpstreamPool.TryOutcome)?
    /// The status fields of a trailers-only gRPC response, sent as its trailers.
    private var heldTrailers: HTTPFields?
    private var sent = ContinuousClock.now
    private var draining = false
    private(set) var responseStarted = false
    private var waitingForWritable = false
    private var status = 0
    private var retryTimer: Scheduled<Void>?
    /// The back-off before the retry that follows draining a 5xx.
    private var drainedRetry = Duration.zero
    private(set) var done = false
    /// Whether a policy's work that waits (`FastStart.waiting`) is under way.
    private var admitting = false
    /// Whether the request was ready to begin while a policy's work was under way.
    private var beginsWhenAdmitted = false
    /// The client's `Upgrade` value, on a route with `websocket: true`: the request is a
    /// handshake, and a 101 turns the connection into `tunnel`.
    var upgrade: String?
    private(set) var tunnel: Tunnel?

    init(
        gateway: GatewayHandler, client: any LoopClient, snapshot: RuntimeSnapshot, started: FastStart,
        method: HTTPRequest.Method,
        pool: LoopConnectionPool, declaredLength: Int, streamed: Bool, closeAfter: Bool, wantsTrailers: Bool
    ) {
        self.gateway = gateway
        self.client = client
        self.snapshot = snapshot
        self.started = started
        self.time = Date()
        self.method = method
        self.pool = pool
        self.declaredLength = declaredLength
        self.streamed = streamed
        self.isGRPC = GRPCStatus.isGRPC(started.head.headerFields)
        self.wantsTrailers = wantsTrailers
        self.closeAfter = closeAfter
        self.attempts = started.chain.proxy.attempts(for: started.head, start: started.exchange.start)
    }

    /// Bytes of a streamed body held while no target takes them, past which the client's reads wait.
    static let streamedBodyHeld = 64 * 1024

    /// The call for `sent` if the event-loop path can serve it: a request with a small body of
    /// known length, on a route whose policies are all fast and whose upstream has a pool on this
    /// loop. A policy that must wait for something (a key fetch, a password hash, Redis) waits
    /// here, and the call goes on on this loop after it. Nil sends it to the streaming path,
    /// before any policy changed anything.
    static func start(
        _ sent: HTTPRequest, declaredLength: Int, streamed: Bool = false, closeAfter: Bool, gateway: GatewayHandler,
        client: any LoopClient,
        channel: any Channel
    ) -> LoopCall? {
        let start = ContinuousClock.now
        let method = sent.method
        guard method != .connect, streamed || declaredLength <= ProxyStage.smallBodyLimit,
            sent.headerFields[.expect] == nil
        else { return nil }
        let snapshot = gateway.runtime.snapshot
        let rawPath = sent.path ?? "/"
        if snapshot.config.server.healthEndpoints, rawPath.hasPrefix("/healthz") || rawPath.hasPrefix("/readyz") {
            return nil
        }
        let peer = channel.remoteAddress?.ipAddress
        let loop = channel.eventLoop
        var pool: LoopConnectionPool?
        let requestIDs = gateway.requestIDs
        guard
            let started = FastStart.start(
                sent, snapshot: snapshot, peer: peer, at: start,
                requestID: { head in
                    head.headerFields[snapshot.requestIDHeader].flatMap { RequestIDGenerator.isValid($0) ? $0 : nil }
                        ?? requestIDs.next()
                },
                accepts: { chain in
                    // Only an HTTP/2 stream to the target can carry a body as it comes.
                    guard !streamed || chain.proxy.pool.config.protocol == .h2 else { return false }
                    pool = chain.proxy.pool.connections.pool(for: loop)
                    return pool != nil
                }),
            let pool
        else { return nil }
        snapshot.inFlight.add(1, ordering: .relaxed)
        let wantsTrailers = sent.headerFields[.te].map { $0.lowercased().contains("trailers") } ?? false
        let call = LoopCall(
            gateway: gateway, client: client, snapshot: snapshot, started: started, method: method, pool: pool,
            declaredLength: declaredLength, streamed: streamed, closeAfter: closeAfter, wantsTrailers: wantsTrailers)
        call.admitWaiting()
        return call
    }

    /// Runs the work that waits of the policy at `started.waiting`, if any, as the policy's
    /// future on this loop or else in a task (the body keeps arriving meanwhile), and resumes
    /// the policies on this loop when it is done.
    private func admitWaiting() {
        guard let index = started.waiting else { return }
        admitting = true
        let policy = chain.policies[index]
        let head = started.head
        let exchange = started.exchange
        let loop = client.eventLoop
        let decided =
            policy.admitWaiting(head, exchange: exchange, on: loop)
            ?? loop.makeFutureWithTask { await policy.admitWaiting(head, exchange: exchange) }
        decided.whenSuccess { admission, head in self.admitted(admission, head: head) }
    }

    private func admitted(_ admission: FastAdmission, head: HTTPRequest) {
        admitting = false
        guard !done else { return }
        started.resume(admission, head: head)
        if started.waiting != nil { return admitWaiting() }
        if beginsWhenAdmitted {
            beginsWhenAdmitted = false
            begin()
        }
    }

    var chain: FastChain { started.chain }
    var exchange: Exchange { started.exchange }
    /// The head as the policies left it, before the target's part is added.
    var head: HTTPRequest { started.head }
    var path: String { started.path }
    /// Whether an upgraded connection is relaying bytes.
    var isTunnelling: Bool { tunnel?.isStarted ?? false }

    /// The target no longer counts this call in flight.
    private func leaveTarget() {
        busyTarget?.inFlight.subtract(1, ordering: .relaxed)
        busyTarget = nil
    }

    // MARK: From the client

    /// A piece of the request body: kept until the request is sent (held to its
    /// `declaredLength`), or for a streamed request, sent on as it comes.
    func received(_ buffer: ByteBuffer) {
        exchange.bytesIn.add(buffer.readableBytes, ordering: .relaxed)
        if !streamed || declaredLength > 0 {
            // A body is held to its length (the target is told it), unless it is streamed without one.
            receivedLength += buffer.readableBytes
            if receivedLength > declaredLength {
                return requestFailed(.badRequest("The request body is longer than its Content-Length."))
            }
        }
        if streamed, let stream {
            bodyForwarded = true
            stream.write(body: buffer)
            if !stream.isWritable { holdClient(true) }
            return
        }
        if body == nil { body = buffer } else { body!.writeImmutableBuffer(buffer) }
        if streamed, (body?.readableBytes ?? 0) >= Self.streamedBodyHeld { holdClient(true) }
    }

    /// The request is in: answer it, or send it to a target. A streamed request began at its
    /// head (`begin`); its end goes on to the target.
    func requestComplete(trailers: HTTPFields? = nil) {
        if streamed, declaredLength > 0, receivedLength != declaredLength {
            return requestFailed(.badRequest("The request body is shorter than its Content-Length."))
        }
        requestEnded = true
        if streamed {
            // Before the stream opened, `send` writes the end with the head.
            stream?.end(trailers: trailers)
            return
        }
        begin()
    }

    /// Answers the request, or sends it to a target: at its end, or at its head when streamed.
    func begin() {
        if admitting {
            beginsWhenAdmitted = true
            return
        }
        if let refusal = started.refusal { return answer(error: refusal) }
        if let (head, body) = started.cached {
            var head = head
            addServerTiming(&head)
            status = Int(head.status.code)
            return writeWhole(head: head, body: body, failure: nil)
        }
        if var own = started.answer {
            addServerTiming(&own)
            status = Int(own.status.code)
            return writeWhole(head: own, body: ByteBuffer(), failure: nil)
        }
        if !streamed, (body?.readableBytes ?? 0) != declaredLength {
            return answer(
                error: .badRequest("The request body could not be read: it was malformed, too slow, or cut off."))
        }
        let proxy = chain.proxy
        let now = ContinuousClock.now
        if case .reject(let wait) = proxy.pool.admit(now: now) { return unavailable(retryAfter: wait) }
        // Whatever way this ends, the upstream's breaker hears how: a half-open breaker counts on it.
        requestOutcome = .failure
        if attempts.retryable { proxy.pool.recordRequestForBudget(now: now) }
        if proxy.pool.config.balance == .consistentHash { hashKey = proxy.hashKey(for: head, exchange: exchange) }
        tryNext()
    }

    /// The request cannot be read to its end (malformed, reset, cut off): the answer is `error`,
    /// and the connection closes after it.
    func requestFailed(_ error: GatewayError) {
        guard !done, !requestEnded else { return }
        closeAfter = true
        requestEnded = true
        requestOutcome = nil
        if responseStarted {
            // A streamed request broken off after the target's answer began: the client learns
            // of it only by the reset of its stream.
            finish(status: status, failure: error, failureLength: nil, aborted: true)
            return client.abortResponse()
        }
        answer(error: error)
    }

    /// The client's channel takes bytes again.
    func clientWritable() {
        guard waitingForWritable else { return }
        waitingForWritable = false
        connection?.demand()
    }

    /// The client went away: whatever is open ends, and the call is recorded as aborted.
    func clientLeft() {
        guard !done else { return }
        if let tunnel, tunnel.isStarted {
            // The client ended its upgraded connection: the tunnel's end records the call.
            tunnel.end()
        }
        guard !done else { return }
        tunnel?.end()
        retryTimer?.cancel()
        connection?.abandon()
        connection = nil
        finish(status: responseStarted ? status : 499, failure: nil, failureLength: nil, aborted: true)
    }

    /// A graceful shutdown: an upgraded connection has no end of its own to wait for.
    func endTunnel() {
        if let tunnel, tunnel.isStarted { tunnel.end() }
    }

    // MARK: Tries

    private func tryNext() {
        guard !done else { return }
        let pool = chain.proxy.pool
        let now = ContinuousClock.now
        switch attempts.next(choice: pool.choose(hashKey: hashKey, excluding: attempts.tried, now: now), now: now) {
        case .send(let target, let timeout):
            self.target = target
            target.inFlight.add(1, ordering: .relaxed)
            busyTarget = target
            sent = ContinuousClock.now
            if upgrade != nil { return openUpgrade(target: target, timeout: timeout) }
            if chain.proxy.pool.config.protocol == .h2 { return openStream(target: target, timeout: timeout) }
            self.pool.acquire(target) { result in
                guard !self.done else {
                    if case .success(let connection) = result { connection.abandon() }
                    return
                }
                switch result {
                case .success(let connection):
                    self.connection = connection
                    var upstreamHead = self.chain.proxy.upstreamHead(
                        self.head, exchange: self.exchange, target: target.config)
                    if self.declaredLength > 0 || Self.sendsLength(self.method) {
                        upstreamHead.headerFields[.contentLength] = String(self.declaredLength)
                    }
                    connection.send(upstreamHead, body: self.body, timeout: TimeAmount(timeout), to: self)
                case .failure(let failure):
                    self.tryFailed(failure)
                }
            }
        case .unavailable(let wait):
            unavailable(retryAfter: wait)
        case .fail(let error):
            answer(error: error)
        case .retry, .deliver:
            preconditionFailure("choosing a target only sends, fails or is unavailable")
        }
    }

    /// Sends the request on a new stream of this loop's HTTP/2 connection to `target`: whole, or
    /// its head and what came of a streamed body so far.
    private func openStream(target: UpstreamTarget, timeout: Duration) {
        pool.acquireStream(target) { result in
            guard !self.done else {
                if case .success(let stream) = result { stream.abandon() }
                return
            }
            switch result {
            case .success(let stream):
                self.connection = stream
                var upstreamHead = self.chain.proxy.upstreamHead(
                    self.head, exchange: self.exchange, target: target.config)
                if self.streamed ? self.declaredLength > 0 : self.declaredLength > 0 || Self.sendsLength(self.method) {
                    upstreamHead.headerFields[.contentLength] = String(self.declaredLength)
                }
                // HTTP/2 carries the scheme in the head (`:scheme`), where HTTP/1.1 has none.
                upstreamHead.scheme = target.config.scheme
                if self.wantsTrailers { upstreamHead.headerFields[.te] = "trailers" }
                let body = self.body
                if self.streamed {
                    self.stream = stream
                    self.body = nil
                    if (body?.readableBytes ?? 0) > 0 { self.bodyForwarded = true }
                }
                stream.send(upstreamHead, body: body, ends: self.requestEnded, timeout: TimeAmount(timeout), to: self)
                if self.holdingClient, stream.isWritable { self.holdClient(false) }
            case .failure(let failure):
                self.tryFailed(failure)
            }
        }
    }

    /// Holds or lets go the client's reads of a streamed body, as the target's leg can take it.
    private func holdClient(_ hold: Bool) {
        guard holdingClient != hold else { return }
        holdingClient = hold
        client.holdRequestBody(hold)
    }

    func upstreamWritable() {
        if holdingClient, stream?.isWritable ?? false { holdClient(false) }
    }

    /// Sends the handshake on a connection of its own; `upstreamSwitched` or the usual
    /// response and failure events follow.
    private func openUpgrade(target: UpstreamTarget, timeout: Duration) {
        guard let upgrade, let idle = started.route.upgradeIdleTimeout else { return }
        var head = chain.proxy.upstreamHead(self.head, exchange: exchange, target: target.config)
        head.headerFields[.connection] = "Upgrade"
        head.headerFields[.upgrade] = upgrade
        tunnel?.end()
        let tunnel = Tunnel(eventLoop: client.eventLoop, idleTimeout: TimeAmount(idle))
        self.tunnel = tunnel
        UpgradeConnection.open(
            head, to: target.config, connectTimeout: pool.connectTimeout, timeout: TimeAmount(timeout), tunnel: tunnel,
            sink: self)
    }

    /// Methods whose bodiless requests still say `Content-Length: 0`, as clients send them.
    static func sendsLength(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch
    }

    private func tryFailed(_ failure: UpstreamFailure) {
        guard let target else { return }
        connection = nil
        stream = nil
        let pool = chain.proxy.pool
        let now = ContinuousClock.now
        exchange.recordUpstream(target: target.config.origin, elapsed: now - sent)
        leaveTarget()
        pool.report(.failure, target: target, now: now)
        if bodyForwarded {
            // Part of the body is gone with the failed try: another try would send the rest only.
            return answer(error: failure.gatewayError(timeout: attempts.currentTimeout))
        }
        switch attempts.failed(failure, now: now, takeBudget: { pool.takeRetryFromBudget(now: now) }) {
        case .retry(let wait):
            retry(after: wait)
        case .fail(let error):
            answer(error: error)
        default:
            preconditionFailure("a failed try is retried or fails")
        }
    }

    private func retry(after wait: Duration) {
        exchange.retries.add(1, ordering: .relaxed)
        retryTimer = client.eventLoop.scheduleTask(in: TimeAmount(wait)) {
            self.tryNext()
        }
    }

    // MARK: Upstream events

    func upstreamHead(_ upstream: HTTPResponse) {
        guard !done, let target else { return }
        let pool = chain.proxy.pool
        let now = ContinuousClock.now
        let elapsed = now - sent
        exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
        let code = upstream.status.code
        let outcome: UpstreamPool.TryOutcome = code >= 500 ? .failure : .success(elapsed)
        if isGRPC, code < 500 {
            // A gRPC answer says how it went in `grpc-status`, in the head (trailers-only) or the trailers.
            pendingOutcome = (target, outcome)
        } else {
            pool.report(outcome, target: target, now: now)
        }
        if !bodyForwarded,
            case .retry(let wait) = attempts.answered(
                status: code, now: now, takeBudget: { pool.takeRetryFromBudget(now: now) })
        {
            // Drained to its end, so the connection can be reused; the retry follows `upstreamEnd`.
            draining = true
            drainedRetry = wait
            return
        }
        requestOutcome = outcome
        var upstream = upstream
        if isGRPC, upstream.headerFields[GRPCStatus.status] != nil {
            // Trailers-only (one HEADERS frame that ends the stream): the status goes out as
            // trailers after the head, which every client reads, since the head is written first.
            heldTrailers = GRPCStatus.takeStatus(from: &upstream.headerFields)
        }
        var head = started.respond(to: upstream)
        addServerTiming(&head)
        status = code
        responseStarted = true
        client.write(head: head)
    }

    /// The target switched protocols: the 101 goes to the client, and the client's channel
    /// becomes the tunnel's other side.
    func upstreamSwitched(_ upstream: HTTPResponse) {
        guard !done, let target, let tunnel else { return }
        let pool = chain.proxy.pool
        let now = ContinuousClock.now
        let elapsed = now - sent
        exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
        pool.report(.success(elapsed), target: target, now: now)
        requestOutcome = .success(elapsed)
        var head = started.respond(to: upstream)
        head.headerFields[.connection] = "Upgrade"
        head.headerFields[.upgrade] = upstream.headerFields[.upgrade] ?? upgrade
        addServerTiming(&head)
        status = 101
        responseStarted = true
        client.write(head: head)
        client.flushResponse()
        tunnel.onEnd = {
            self.exchange.bytesIn.add(tunnel.bytesFromClient, ordering: .relaxed)
            self.exchange.bytesOut.add(tunnel.bytesFromUpstream, ordering: .relaxed)
            self.finish(status: 101, failure: nil, failureLength: nil, aborted: false)
        }
        do {
            try client.startTunnel(tunnel)
        } catch {
            tunnel.end()
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        // An answer to `HEAD` has no body, whatever a target sends.
        guard !done, !draining, method != .head else { return }
        exchange.bytesOut.add(buffer.readableBytes, ordering: .relaxed)
        client.write(body: buffer)
    }

    func upstreamReadComplete() {
        guard !done, !draining else { return }
        client.flushResponse()
        if !client.isClientWritable {
            waitingForWritable = true
            connection?.pause()
        }
    }

    func upstreamEnd(trailers: HTTPFields?) {
        guard !done else { return }
        let trailers = trailers ?? heldTrailers
        connection = nil
        stream = nil
        if let (target, outcome) = pendingOutcome {
            pendingOutcome = nil
            var counted = outcome
            if let code = GRPCStatus.code(in: trailers), GRPCStatus.isServerFailure(code) {
                counted = .failure
            }
            requestOutcome = counted
            chain.proxy.pool.report(counted, target: target, now: .now)
        }
        if draining {
            draining = false
            leaveTarget()
            return retry(after: drainedRetry)
        }
        let promise = client.eventLoop.makePromise(of: Void.self)
        client.write(end: trailers, promise: promise)
        client.flushResponse()
        promise.futureResult.whenComplete { result in
            var aborted = false
            if case .failure = result { aborted = true }
            self.finish(status: self.status, failure: nil, failureLength: nil, aborted: aborted)
        }
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard !done else { return }
        if responseStarted {
            // Mid-body: the client cannot be told otherwise than by closing.
            if let (target, _) = pendingOutcome {
                // A gRPC stream cut off before its status: the target's failure.
                pendingOutcome = nil
                requestOutcome = .failure
                chain.proxy.pool.report(.failure, target: target, now: .now)
            }
            connection = nil
            stream = nil
            finish(status: status, failure: nil, failureLength: nil, aborted: true)
            client.abortResponse()
            return
        }
        if draining {
            draining = false
            connection = nil
            leaveTarget()
            return retry(after: drainedRetry)
        }
        tryFailed(failure)
    }

    // MARK: Answers from the gateway

    private func unavailable(retryAfter: Duration) {
        let proxy = chain.proxy
        guard let fallback = proxy.pool.config.circuitBreaker?.fallback else {
            return answer(error: .upstreamUnavailable(upstream: proxy.pool.config.name, retryAfter: retryAfter))
        }
        var head = HTTPResponse(status: .init(code: fallback.status))
        head.headerFields.setUnindexed(proxy.requestIDHeader, exchange.requestID)
        if let contentType = fallback.contentType { head.headerFields[.contentType] = contentType }
        head.headerFields[.contentLength] = String(fallback.body.count)
        for policy in chain.policies.reversed() { policy.respond(&head, exchange: exchange) }
        addServerTiming(&head)
        status = fallback.status
        exchange.bytesOut.add(fallback.body.count, ordering: .relaxed)
        writeWhole(head: head, body: ByteBuffer(bytes: fallback.body), failure: nil)
    }

    func answer(error: GatewayError) {
        var (head, body) = error.problem(
            requestID: exchange.requestID, instance: path, requestIDHeader: snapshot.requestIDHeader)
        head.headerFields.append(contentsOf: exchange.errorFields)
        addServerTiming(&head)
        status = error.status.code
        if isGRPC {
            let (grpcHead, trailers) = GRPCStatus.answer(to: head, detail: error.detail)
            return writeWhole(head: grpcHead, body: ByteBuffer(), trailers: trailers, failure: error)
        }
        writeWhole(head: head, body: body, failure: error)
    }

    private func writeWhole(head: HTTPResponse, body: ByteBuffer, trailers: HTTPFields? = nil, failure: GatewayError?) {
        responseStarted = true
        client.write(head: head)
        if method != .head { client.write(body: body) }
        let promise = client.eventLoop.makePromise(of: Void.self)
        client.write(end: trailers, promise: promise)
        client.flushResponse()
        let length = body.readableBytes
        promise.futureResult.whenComplete { result in
            var aborted = false
            if case .failure = result { aborted = true }
            self.finish(status: self.status, failure: failure, failureLength: length, aborted: aborted)
        }
    }

    private func addServerTiming(_ head: inout HTTPResponse) {
        guard snapshot.config.server.serverTiming else { return }
        var timing = "total;dur=\(GatewayHandler.rounded((ContinuousClock.now - exchange.start).milliseconds))"
        if let upstream = exchange.upstreamElapsed {
            timing += ", upstream;dur=\(GatewayHandler.rounded(upstream.milliseconds))"
        }
        head.headerFields.append(HTTPField(name: GatewayHandler.serverTiming, value: timing))
    }

    // MARK: The end of a call

    private func finish(status: Int, failure: GatewayError?, failureLength: Int?, aborted: Bool) {
        guard !done else { return }
        done = true
        // A target's leg still open (a streamed request broken off) ends with the call: an
        // HTTP/2 stream is reset rather than left waiting for the rest of the body.
        retryTimer?.cancel()
        if let leg = connection {
            connection = nil
            stream = nil
            leg.abandon()
        }
        // Also when the client left while the target was being asked.
        leaveTarget()
        if var outcome = requestOutcome {
            // A client that went away before any answer abandoned the request; no fault of the upstream's.
            if aborted, !responseStarted { outcome = .clientFault }
            chain.proxy.pool.reportRequest(outcome, now: .now)
        }
        exchange.finish()
        snapshot.inFlight.subtract(1, ordering: .releasing)
        gateway.log(
            time: time, requestID: exchange.requestID, method: method.rawValue, path: path, exchange: exchange,
            status: status,
            failure: failure, failureLength: failureLength, start: exchange.start,
            clientAddress: exchange.clientAddress,
            traceID: exchange.trace.traceID, aborted: aborted, protocolVersion: client.protocolVersion)
        client.callFinished(self, aborted: aborted)
    }
}
