import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import PorticoConfig

/// The terminal stage: forwards the request to a target of the route's upstream and streams the
/// answer back. Bodies are never buffered; backpressure runs end to end through the async sequences.
struct ProxyStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let pool: UpstreamPool
    /// The public prefix removed from the path, if the API strips it.
    let strippedPrefix: String?
    /// Prepended after stripping: the OpenAPI `servers` path of the API.
    let upstreamBasePath: String
    let timeout: TimeAmount
    /// Whether the route allows retrying methods that are not idempotent.
    let retrySafe: Bool
    let requestIDHeader: HTTPField.Name

    static let via = "1.1 portico"

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let start = ContinuousClock.now
        let settings = pool.config
        // A small body is read whole before any upstream connection is taken, so a client that
        // trickles it holds none, and a broken one is answered 400 without the upstream hearing of it.
        var collected: ByteBuffer?
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0, length <= Self.smallBodyLimit
        {
            do {
                let body = try await request.body.collect(upTo: Self.smallBodyLimit)
                exchange.bytesIn.add(body.readableBytes, ordering: .relaxed)
                collected = body
            } catch {
                throw Self.clientBodyError(error)
            }
        }
        if case .reject(let wait) = pool.admit(now: start) {
            return try unavailable(retryAfter: wait, exchange: exchange)
        }
        // Whatever way this ends, the upstream's breaker hears how: a half-open breaker counts on it.
        var requestOutcome: UpstreamPool.TryOutcome = .failure
        defer { pool.reportRequest(requestOutcome, now: ContinuousClock.now) }
        var attempts = attempts(for: request.head, start: start)
        if attempts.retryable { pool.recordRequestForBudget(now: start) }
        let hashKey = settings.balance == .consistentHash ? self.hashKey(for: request.head, exchange: exchange) : nil

        while true {
            let now = ContinuousClock.now
            let target: UpstreamTarget
            let tryTimeout: Duration
            switch attempts.next(choice: pool.choose(hashKey: hashKey, excluding: attempts.tried, now: now), now: now) {
            case .send(let chosen, let timeout):
                target = chosen
                tryTimeout = timeout
            case .unavailable(let wait):
                return try unavailable(retryAfter: wait, exchange: exchange)
            case .fail(let error):
                throw error
            case .retry, .deliver:
                preconditionFailure("choosing a target only sends, fails or is unavailable")
            }

            target.inFlight.add(1, ordering: .relaxed)
            let sent = ContinuousClock.now
            let answer: UpstreamAnswer
            do {
                answer = try await send(
                    request, exchange: exchange, target: target, collected: collected, timeout: tryTimeout)
            } catch {
                let elapsed = ContinuousClock.now - sent
                exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
                target.inFlight.subtract(1, ordering: .relaxed)
                if let bodyError = exchange.clientBodyError {
                    // The client's body broke off or was refused: its fault, not the target's.
                    pool.report(.clientFault, target: target, now: ContinuousClock.now)
                    requestOutcome = .clientFault
                    throw Self.clientBodyError(bodyError)
                }
                pool.report(.failure, target: target, now: ContinuousClock.now)
                if let gatewayError = error as? GatewayError { throw gatewayError }
                let now = ContinuousClock.now
                switch attempts.failed(
                    Self.failure(for: error), now: now, takeBudget: { pool.takeRetryFromBudget(now: now) })
                {
                case .retry(let wait):
                    exchange.retries.add(1, ordering: .relaxed)
                    try await Task.sleep(for: wait)
                    continue
                case .fail(let failure):
                    throw failure
                default:
                    preconditionFailure("a failed try is retried or fails")
                }
            }
            let elapsed = ContinuousClock.now - sent
            exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
            let answerHead = answer.head
            let status = answerHead.status.code
            let outcome: UpstreamPool.TryOutcome = status >= 500 ? .failure : .success(elapsed)
            let answered = ContinuousClock.now
            pool.report(outcome, target: target, now: answered)
            if case .retry(let wait) = attempts.answered(
                status: status, now: answered, takeBudget: { pool.takeRetryFromBudget(now: answered) })
            {
                // Read and drop the failed answer so its connection can be reused.
                await answer.discard(upTo: Self.smallBodyLimit)
                target.inFlight.subtract(1, ordering: .relaxed)
                exchange.retries.add(1, ordering: .relaxed)
                try await Task.sleep(for: wait)
                continue
            }
            requestOutcome = outcome
            // The target stays busy until the response body has been sent.
            exchange.onFinish { target.inFlight.subtract(1, ordering: .relaxed) }
            do {
                return try await response(from: answer, head: answerHead, exchange: exchange)
            } catch {
                if let gatewayError = error as? GatewayError { throw gatewayError }
                throw Self.failure(for: error).gatewayError(timeout: tryTimeout)
            }
        }
    }

    /// The tries this request may make. Only bodiless requests are retried: a streamed body
    /// cannot be sent twice.
    func attempts(for head: HTTPRequest, start: ContinuousClock.Instant) -> UpstreamAttempts {
        let settings = pool.config
        let retryable = retrySafe || Self.idempotent.contains(head.method)
        return UpstreamAttempts(
            settings: settings.retries, retryable: retryable && !head.carriesBody,
            perTry: .nanoseconds(timeout.nanoseconds),
            totalTimeout: settings.totalTimeout.map(\.duration), start: start)
    }

    static let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .trace, .put, .delete]

    /// One try at `target`: on a stream of the gateway's own HTTP/2 client for `protocol: h2`
    /// (AsyncHTTPClient reaches HTTP/2 targets only over TLS, never an `http://` one), through
    /// AsyncHTTPClient otherwise.
    private func send(
        _ request: Request, exchange: Exchange, target: UpstreamTarget, collected: ByteBuffer?, timeout: Duration
    ) async throws -> UpstreamAnswer {
        guard pool.config.protocol == .h2, pool.servesEventLoopPath, let loopPool = pool.connections.anyPool() else {
            let response = try await pool.client.execute(
                upstreamRequest(request, exchange: exchange, target: target.config, collected: collected),
                timeout: TimeAmount(timeout))
            return .client(response)
        }
        var head = upstreamHead(request.head, exchange: exchange, target: target.config)
        // HTTP/2 carries the scheme in the head (`:scheme`), where HTTP/1.1 has none.
        head.scheme = target.config.scheme
        // The client's `TE` is gone with the other hop-by-hop fields; gRPC targets want it.
        if GRPCStatus.isGRPC(request.headers) { head.headerFields[.te] = "trailers" }
        let declared = request.headers[.contentLength]
        if let collected {
            head.headerFields[.contentLength] = String(collected.readableBytes)
        } else if let declared {
            head.headerFields[.contentLength] = declared
        } else if LoopCall.sendsLength(request.head.method), !request.headers.contains(.transferEncoding) {
            head.headerFields[.contentLength] = "0"
        }
        let streamed = collected == nil ? requestBody(of: request, exchange: exchange) : nil
        let call = H2StreamedCall(loop: loopPool.eventLoop)
        let response = try await call.send(
            head, body: collected, ends: streamed == nil, target: target, pool: loopPool,
            timeout: TimeAmount(timeout),
            opened: {
                // The body goes on beside the wait for the head: a target may answer before it
                // has read all of it. Its own task, as the answer outlives this call.
                guard let streamed else { return }
                Task {
                    await Self.pump(streamed, declared: declared.flatMap { Int($0) }, into: call, exchange: exchange)
                }
            })
        return .stream(response, call)
    }

    /// Writes a streamed request body to its HTTP/2 stream as the client sends it. A body that
    /// ends short of its `Content-Length` (the client closed mid-body) is the client's fault.
    private static func pump(_ body: ObservedBody, declared: Int?, into call: H2StreamedCall, exchange: Exchange) async
    {
        var total = 0
        do {
            for try await chunk in body {
                total += chunk.readableBytes
                guard await call.write(chunk) else { return }
            }
        } catch {
            return call.clientFailed()
        }
        if let declared, total != declared {
            exchange.clientBodyError = GatewayError.badRequest("The request body is shorter than its Content-Length.")
            return call.clientFailed()
        }
        call.end()
    }

    private func upstreamRequest(
        _ request: Request, exchange: Exchange, target: TargetConfig, collected: ByteBuffer?
    ) -> HTTPClientRequest {
        let head = upstreamHead(request.head, exchange: exchange, target: target)
        var upstreamRequest = HTTPClientRequest(url: pool.origin(of: target) + (head.path ?? "/"))
        upstreamRequest.method = HTTPMethod(rawValue: head.method.rawValue)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headerFields.count + 1)
        if let authority = head.authority { headers.add(name: "Host", value: authority) }
        for field in head.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        upstreamRequest.headers = headers
        if let collected {
            upstreamRequest.body = .bytes(collected)
        } else if let body = requestBody(request, exchange: exchange) {
            upstreamRequest.body = body
        }
        return upstreamRequest
    }

    /// What a client whose request body failed gets: the policy's own answer (413), else 400.
    static func clientBodyError(_ error: any Error) -> GatewayError {
        if let gatewayError = error as? GatewayError { return gatewayError }
        return GatewayError.badRequest("The request body could not be read: it was malformed, too slow, or cut off.")
    }

    /// The answer while the breakers are open: the configured fallback, or 503 with `Retry-After`.
    private func unavailable(retryAfter: Duration, exchange: Exchange) throws -> Response {
        if let fallback = pool.config.circuitBreaker?.fallback {
            var headers = HTTPFields()
            headers.setUnindexed(requestIDHeader, exchange.requestID)
            if let contentType = fallback.contentType { headers[.contentType] = contentType }
            return Response(
                status: HTTPResponse.Status(code: fallback.status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: fallback.body)))
        }
        throw GatewayError.upstreamUnavailable(upstream: pool.config.name, retryAfter: retryAfter)
    }

    /// The consistent-hash key of a request, from the configured source.
    func hashKey(for head: HTTPRequest, exchange: Exchange) -> String? {
        switch pool.config.hashOn {
        case .header(let name)?:
            return HTTPField.Name(name).flatMap { head.headerFields[$0] }
        case .cookie(let name)?:
            return RequestCookies.value(named: name, in: head.headerFields)
        case .clientIP?:
            return exchange.clientAddress
        case .path?:
            return head.path == nil ? nil : head.pathWithoutQuery
        case .consumer?:
            return exchange.identity?.consumer ?? exchange.clientAddress
        case nil:
            return nil
        }
    }

    /// What an error of AsyncHTTPClient or NIO means for a try.
    static func failure(for error: any Error) -> UpstreamFailure {
        if let failure = error as? UpstreamFailure { return failure }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return .connectTimeout
            case .remoteConnectionClosed: return .reset
            case .deadlineExceeded, .readTimeout: return .timeout
            default: return .malformed
            }
        }
        if error is NIOConnectionError { return .connectFailure }
        // A pooled connection the target closed just as it was reused.
        if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel || channelError == .eof {
            return .reset
        }
        if let ioError = error as? IOError {
            return ioError.errnoCode == ECONNRESET || ioError.errnoCode == EPIPE ? .reset : .connectFailure
        }
        return .malformed
    }

    /// The path (and query) to send: the public prefix stripped, the target's and the API's base paths added.
    private func upstreamPath(for head: HTTPRequest, target: TargetConfig) -> String {
        var path = Substring(head.path ?? "/")
        if let strippedPrefix, strippedPrefix != "/", path.hasPrefix(strippedPrefix) {
            path = path.dropFirst(strippedPrefix.count)
        }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        return target.basePath + upstreamBasePath + path
    }

    /// The head sent to `target`, built from the client's (which `RequestGuard` has cleaned of
    /// hop-by-hop headers and of forwarding headers from untrusted peers): both the event-loop
    /// path and the streaming path send exactly this.
    func upstreamHead(_ request: HTTPRequest, exchange: Exchange, target: TargetConfig) -> HTTPRequest {
        var fields = request.headerFields
        // The framing headers were kept for the body and are the client's hop only; the event-loop
        // path sets its own length below.
        fields[.transferEncoding] = nil
        fields[.contentLength] = nil
        // The listener's client-certificate fields are the gateway's own.
        if fields[ClientCertificate.subjectField] != nil { ClientCertificate.apply(nil, to: &fields) }
        let originalHost = request.authority
        let authority: String
        if pool.config.preserveHost, let originalHost {
            authority = originalHost
        } else if let hostHeader = target.hostHeader {
            authority = hostHeader
        } else if let serverName = pool.serverName {
            authority = target.port == 443 ? serverName : "\(serverName):\(target.port)"
        } else {
            let defaultPort = target.scheme == "https" ? 443 : 80
            authority = target.port == defaultPort ? target.host : "\(target.host):\(target.port)"
        }
        if let client = exchange.clientAddress {
            if let existing = request.headerFields[HopByHop.xForwardedFor] {
                fields[HopByHop.xForwardedFor] = existing + ", " + client
            } else {
                fields.append(HTTPField(name: HopByHop.xForwardedFor, value: client))
            }
        }
        // A client's forwarding headers reach here only from a trusted proxy (`RequestGuard`),
        // whose word on the original scheme and host is kept.
        if !fields.contains(Self.xForwardedProto) {
            fields.append(HTTPField(name: Self.xForwardedProto, value: request.scheme ?? "http"))
        }
        if !fields.contains(Self.xForwardedHost), let originalHost {
            fields.append(HTTPField(name: Self.xForwardedHost, value: originalHost))
        }
        fields[.via] = request.headerFields[.via].map { $0 + ", " + Self.via } ?? Self.via
        fields.setUnindexed(requestIDHeader, exchange.requestID)
        fields.setUnindexed(Self.traceparent, exchange.trace.traceparent)
        return HTTPRequest(
            method: request.method, scheme: nil, authority: authority, path: upstreamPath(for: request, target: target),
            headerFields: fields)
    }

    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let traceparent = HTTPField.Name("traceparent")!

    /// The head the client gets for a target's answer: hop-by-hop fields gone, `Via` and the request id added.
    func clientHead(_ upstream: HTTPResponse, exchange: Exchange) -> HTTPResponse {
        var head = upstream
        // A body sent chunked has the length of its chunks, whatever `Content-Length` said
        // (RFC 9112 §6.3): that length must not reach the client, whose framing it would be.
        if head.headerFields[.transferEncoding] != nil { head.headerFields[.contentLength] = nil }
        HopByHop.strip(&head.headerFields)
        head.headerFields[.via] = head.headerFields[.via].map { $0 + ", " + Self.via } ?? Self.via
        head.headerFields.setUnindexed(requestIDHeader, exchange.requestID)
        return head
    }

    /// A streamed body when the request has one (a length, or chunked framing).
    private func requestBody(_ request: Request, exchange: Exchange) -> HTTPClientRequest.Body? {
        guard let counted = requestBody(of: request, exchange: exchange) else { return nil }
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }) {
            return .stream(counted, length: .known(length))
        }
        return .stream(counted, length: .unknown)
    }

    /// The request's body, counted as it is read, when it has one (a length, or chunked framing).
    private func requestBody(of request: Request, exchange: Exchange) -> ObservedBody? {
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }) {
            guard length > 0 else { return nil }
        } else if !request.headers.contains(.transferEncoding) {
            return nil
        }
        return ObservedBody(base: request.body, failed: { exchange.clientBodyError = $0 }) { chunk, _ in
            exchange.bytesIn.add(chunk, ordering: .relaxed)
        }
    }

    /// Bodies up to this size whose length the upstream declared are read whole before the head is
    /// written, so head, body and end leave in one write instead of three.
    static let smallBodyLimit = 64 * 1024

    private func response(
        from upstream: UpstreamAnswer, head upstreamHead: HTTPResponse, exchange: Exchange
    ) async throws -> Response {
        let head = clientHead(upstreamHead, exchange: exchange)
        let fields = head.headerFields
        let status = head.status
        let declaredLength = fields[.contentLength].flatMap { Int($0) }

        if let declaredLength, declaredLength <= Self.smallBodyLimit {
            // Small and of known length: collect it (bounded by the declared length) and answer in one write.
            let body = try await upstream.collect(upTo: Self.smallBodyLimit)
            exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
            var response = Response(status: status, headers: fields, body: .init(byteBuffer: body))
            response.headers[.contentLength] = String(declaredLength)
            return response
        }
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody { writer in
                try await upstream.stream(to: &writer) { exchange.bytesOut.add($0, ordering: .relaxed) }
            }
        )
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
