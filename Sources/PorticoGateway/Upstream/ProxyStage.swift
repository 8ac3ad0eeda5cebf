import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Foundation
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
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > 0, length <= Self.smallBodyLimit {
            do {
                let body = try await request.body.collect(upTo: Self.smallBodyLimit)
                exchange.bytesIn.add(body.readableBytes, ordering: .relaxed)
                collected = body
            } catch {
                throw Self.clientBodyError(error)
            }
        }
        if case .reject(let wait) = pool.admit(now: start) { return try unavailable(retryAfter: wait, exchange: exchange) }
        // Whatever way this ends, the upstream's breaker hears how: a half-open breaker counts on it.
        var requestOutcome: UpstreamPool.TryOutcome = .failure
        defer { pool.reportRequest(requestOutcome, now: ContinuousClock.now) }
        let retryable = settings.retries.attempts > 0 && (retrySafe || Self.idempotent.contains(request.method))
            && !Self.hasBody(request)
        if retryable { pool.recordRequestForBudget(now: start) }
        let deadline = settings.totalTimeout.map { start + $0.duration }
        let hashKey = settings.balance == .consistentHash ? self.hashKey(for: request, exchange: exchange) : nil
        var tried: Set<ObjectIdentifier> = []
        var retriesDone = 0

        while true {
            let now = ContinuousClock.now
            let choice = pool.choose(hashKey: hashKey, excluding: tried, now: now)
            guard case .target(let target) = choice else {
                if case .open(let wait) = choice { return try unavailable(retryAfter: wait, exchange: exchange) }
                throw GatewayError.badGateway("The upstream service has no usable target.")
            }
            tried.insert(ObjectIdentifier(target))
            var tryTimeout = timeout
            if let deadline {
                guard deadline > now else {
                    throw GatewayError.gatewayTimeout("The upstream service did not answer within the total timeout.")
                }
                tryTimeout = min(tryTimeout, TimeAmount(deadline - now))
            }
            /// True when another try is allowed after a failure of this kind.
            func mayRetry(_ condition: RetryConfig.Condition?) -> Bool {
                guard retryable, retriesDone < settings.retries.attempts, let condition, settings.retries.on.contains(condition)
                else { return false }
                if let deadline, ContinuousClock.now >= deadline { return false }
                return pool.takeRetryFromBudget(now: ContinuousClock.now)
            }

            target.inFlight.add(1, ordering: .relaxed)
            let sent = ContinuousClock.now
            let upstreamResponse: HTTPClientResponse
            do {
                upstreamResponse = try await pool.client.execute(
                    upstreamRequest(request, exchange: exchange, target: target.config, collected: collected), timeout: tryTimeout)
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
                if mayRetry(Self.retryCondition(for: error)) {
                    retriesDone += 1
                    exchange.retries.add(1, ordering: .relaxed)
                    try await backoff(retry: retriesDone)
                    continue
                }
                throw Self.gatewayError(for: error, timeout: tryTimeout)
            }
            let elapsed = ContinuousClock.now - sent
            exchange.recordUpstream(target: target.config.origin, elapsed: elapsed)
            let status = Int(upstreamResponse.status.code)
            let outcome: UpstreamPool.TryOutcome = status >= 500 ? .failure : .success(elapsed)
            pool.report(outcome, target: target, now: ContinuousClock.now)
            if status >= 500, mayRetry(.status(status)) {
                // Read and drop the failed answer so its connection can be reused.
                _ = try? await upstreamResponse.body.collect(upTo: Self.smallBodyLimit)
                target.inFlight.subtract(1, ordering: .relaxed)
                retriesDone += 1
                exchange.retries.add(1, ordering: .relaxed)
                try await backoff(retry: retriesDone)
                continue
            }
            requestOutcome = outcome
            // The target stays busy until the response body has been sent.
            exchange.onFinish { target.inFlight.subtract(1, ordering: .relaxed) }
            do {
                return try await response(from: upstreamResponse, exchange: exchange)
            } catch {
                throw Self.gatewayError(for: error, timeout: tryTimeout)
            }
        }
    }

    static let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .trace, .put, .delete]

    /// Only bodiless requests are retried: a streamed body cannot be sent twice.
    static func hasBody(_ request: Request) -> Bool {
        if request.headers.contains(.transferEncoding) { return true }
        return request.headers[.contentLength].map { $0 != "0" } ?? false
    }

    private func upstreamRequest(_ request: Request, exchange: Exchange, target: TargetConfig, collected: ByteBuffer?) -> HTTPClientRequest {
        var upstreamRequest = HTTPClientRequest(url: target.origin + upstreamPath(for: request, target: target))
        upstreamRequest.method = HTTPMethod(rawValue: request.method.rawValue)
        upstreamRequest.headers = forwardedHeaders(request, exchange: exchange, target: target)
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

    /// Exponential back-off with jitter: base, 2x base, 4x base… each between half and one and a half times that, capped at 1 s.
    private func backoff(retry: Int) async throws {
        let base = Double(pool.config.retries.backoff.milliseconds) * Double(1 << min(retry - 1, 6))
        let jittered = min(base * Double.random(in: 0.5...1.5), 1000)
        try await Task.sleep(for: .milliseconds(jittered))
    }

    /// The answer while the breakers are open: the configured fallback, or 503 with `Retry-After`.
    private func unavailable(retryAfter: Duration, exchange: Exchange) throws -> Response {
        if let fallback = pool.config.circuitBreaker?.fallback {
            var headers: HTTPFields = [requestIDHeader: exchange.requestID]
            if let contentType = fallback.contentType { headers[.contentType] = contentType }
            return Response(
                status: HTTPResponse.Status(code: fallback.status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: fallback.body)))
        }
        throw GatewayError.upstreamUnavailable(upstream: pool.config.name, retryAfter: retryAfter)
    }

    /// The consistent-hash key of a request, from the configured source.
    private func hashKey(for request: Request, exchange: Exchange) -> String? {
        switch pool.config.hashOn {
        case .header(let name)?:
            return HTTPField.Name(name).flatMap { request.headers[$0] }
        case .cookie(let name)?:
            return Cookies.value(named: name, in: request.headers)
        case .clientIP?:
            return exchange.clientAddress
        case .path?:
            return request.uri.path
        case .consumer?:
            return exchange.identity?.consumer ?? exchange.clientAddress
        case nil:
            return nil
        }
    }

    /// Which retry condition an error of the client is, if any.
    static func retryCondition(for error: any Error) -> RetryConfig.Condition? {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return .connectFailure
            case .remoteConnectionClosed: return .reset
            case .deadlineExceeded, .readTimeout: return .timeout
            default: return nil
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
        return nil
    }

    /// The path (and query) to send: the public prefix stripped, the target's and the API's base paths added.
    private func upstreamPath(for request: Request, target: TargetConfig) -> String {
        let raw = request.head.path ?? "/"
        var path = Substring(raw)
        if let strippedPrefix, strippedPrefix != "/", path.hasPrefix(strippedPrefix) {
            path = path.dropFirst(strippedPrefix.count)
        }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        return target.basePath + upstreamBasePath + path
    }

    private func forwardedHeaders(_ request: Request, exchange: Exchange, target: TargetConfig) -> HTTPHeaders {
        var fields = request.headers
        // `RequestGuard` removed the other hop-by-hop headers before any policy; the framing
        // headers were kept for the body and are the client's hop only.
        fields[.transferEncoding] = nil
        fields[.contentLength] = nil
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 6)
        for field in fields { headers.add(name: field.name.rawName, value: field.value) }

        let originalHost = request.head.authority
        if pool.config.preserveHost, let originalHost {
            headers.replaceOrAdd(name: "Host", value: originalHost)
        } else if let hostHeader = target.hostHeader {
            headers.replaceOrAdd(name: "Host", value: hostHeader)
        } else {
            let defaultPort = target.scheme == "https" ? 443 : 80
            headers.replaceOrAdd(name: "Host", value: target.port == defaultPort ? target.host : "\(target.host):\(target.port)")
        }
        if let client = exchange.clientAddress {
            if let existing = request.headers[HopByHop.xForwardedFor] {
                headers.replaceOrAdd(name: "X-Forwarded-For", value: existing + ", " + client)
            } else {
                headers.add(name: "X-Forwarded-For", value: client)
            }
        }
        // A client's forwarding headers reach here only from a trusted proxy (`RequestGuard`),
        // whose word on the original scheme and host is kept.
        if !headers.contains(name: "X-Forwarded-Proto") { headers.add(name: "X-Forwarded-Proto", value: "http") }
        if !headers.contains(name: "X-Forwarded-Host"), let originalHost { headers.add(name: "X-Forwarded-Host", value: originalHost) }
        let via = request.headers[.via].map { $0 + ", " + Self.via } ?? Self.via
        headers.replaceOrAdd(name: "Via", value: via)
        headers.replaceOrAdd(name: requestIDHeader.rawName, value: exchange.requestID)
        headers.replaceOrAdd(name: "traceparent", value: exchange.trace.traceparent)
        return headers
    }

    /// A streamed body when the request has one (a length, or chunked framing).
    private func requestBody(_ request: Request, exchange: Exchange) -> HTTPClientRequest.Body? {
        let counted = ObservedBody(base: request.body, failed: { exchange.clientBodyError = $0 }) { chunk, _ in
            exchange.bytesIn.add(chunk, ordering: .relaxed)
        }
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }) {
            return length == 0 ? nil : .stream(counted, length: .known(length))
        }
        if request.headers.contains(.transferEncoding) {
            return .stream(counted, length: .unknown)
        }
        return nil
    }

    /// Bodies up to this size whose length the upstream declared are read whole before the head is
    /// written, so head, body and end leave in one write instead of three.
    static let smallBodyLimit = 64 * 1024

    private func response(from upstream: HTTPClientResponse, exchange: Exchange) async throws -> Response {
        var fields = HTTPFields()
        fields.reserveCapacity(upstream.headers.count + 2)
        for (name, value) in upstream.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        HopByHop.strip(&fields)
        fields[.via] = fields[.via].map { $0 + ", " + Self.via } ?? Self.via
        fields[requestIDHeader] = exchange.requestID
        let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)
        let declaredLength = fields[.contentLength].flatMap { Int($0) }

        if let declaredLength, declaredLength <= Self.smallBodyLimit {
            // Small and of known length: collect it (bounded by the declared length) and answer in one write.
            let body = try await upstream.body.collect(upTo: Self.smallBodyLimit)
            exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
            var response = Response(status: status, headers: fields, body: .init(byteBuffer: body))
            response.headers[.contentLength] = String(declaredLength)
            return response
        }
        let body = upstream.body
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody { writer in
                for try await chunk in body {
                    exchange.bytesOut.add(chunk.readableBytes, ordering: .relaxed)
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            }
        )
    }

    /// 504 for anything that timed out, 502 for everything else the upstream did wrong.
    static func gatewayError(for error: any Error, timeout: TimeAmount) -> any Error {
        if let gatewayError = error as? GatewayError { return gatewayError }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout:
                let seconds = Double(timeout.nanoseconds) / 1e9
                return GatewayError.gatewayTimeout("The upstream service did not answer in time (timeout \(seconds)s).")
            case .connectTimeout:
                return GatewayError.gatewayTimeout("Connecting to the upstream service timed out.")
            case .remoteConnectionClosed:
                return GatewayError.badGateway("The upstream service closed the connection before answering.")
            default:
                break
            }
        }
        if error is NIOConnectionError || error is IOError || error is ChannelError {
            return GatewayError.badGateway("The upstream service refused or reset the connection.")
        }
        // Neither the upstream's name in the config nor the error's text (type names, addresses) is the client's business.
        return GatewayError.badGateway("The upstream service failed.")
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
