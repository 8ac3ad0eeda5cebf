import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoStore

/// One backend call of a composite endpoint, compiled: its config and the proxy stage of its
/// upstream, whose pool, balancer, breakers, retries and timeouts it uses as any proxied request
/// does.
struct BackendCall: Sendable {
    let config: BackendCallConfig
    let proxy: ProxyStage
    /// The call's deadline over all its tries.
    let timeout: Duration
    /// The deadline as the config wrote it, for messages.
    let timeoutText: String
    /// A chain of the proxy alone, which `ProxyStage.handle` is given as its (unused) rest.
    let chain: PolicyChain

    init(config: BackendCallConfig, proxy: ProxyStage, timeout: ConfigDuration) {
        self.config = config
        self.proxy = proxy
        self.timeout = .milliseconds(timeout.milliseconds)
        self.timeoutText = timeout.description
        self.chain = PolicyChain(policies: [], terminal: proxy)
    }

    /// Sends one request and reads its answer whole, within the call's deadline; records the
    /// call (or the element, `name`) on `exchange`.
    func fetch(
        name: String, head: HTTPRequest, body: ByteBuffer?, exchange: Exchange, cache: BackendCache?,
        budget: AnswerBudget
    ) async -> Result<CallAnswer, CallFailure> {
        let start = ContinuousClock.now
        let cacheKey = cache == nil ? nil : Self.cacheKey(upstream: config.upstream, head: head)
        if let cache, let cacheKey, let hit = cache.answer(for: cacheKey, now: start) {
            guard budget.take(hit.bytes) else {
                return .failure(Self.overBudget(name: name, callName: config.name, budget: budget))
            }
            exchange.recordBackendCall(
                BackendCallRecord(
                    name: name, target: nil, status: hit.answer.status, milliseconds: 0, error: nil, spanID: nil,
                    cache: "hit"))
            return .success(hit.answer)
        }
        let trace = exchange.trace.child()
        let child = Exchange(
            requestID: exchange.requestID, trace: trace, clientAddress: exchange.clientAddress, host: exchange.host,
            start: start,
            route: exchange.route, request: head)
        child.identity = exchange.identity
        var head = head
        if let body { head.headerFields[.contentLength] = String(body.readableBytes) }
        let request = Request(head: head, body: RequestBody(buffer: body ?? ByteBuffer()))
        let (proxy, chain, maxSize, timeout, callName, timeoutText) = (
            self.proxy, self.chain, config.maxSize, self.timeout, config.name, self.timeoutText
        )
        let result: Result<(HTTPResponse.Status, HTTPFields, ByteBuffer), CallFailure>
        do {
            let answer = try await Self.within(timeout) {
                let response = try await proxy.handle(
                    request, exchange: child, next: PolicyNext(chain: chain, index: 1))
                let writer = BufferWriter(limit: maxSize)
                let gathered = writer.gathered
                do {
                    try await response.body.write(writer)
                } catch  where gathered.overflowed {
                    throw CallFailure(
                        name: name, reason: "larger than \(maxSize) bytes",
                        error: .badGateway("Call '\(callName)' answered more than \(maxSize) bytes."))
                }
                return (response.status, response.headers, gathered.buffer)
            }
            result = .success(answer)
        } catch let failure as CallFailure {
            result = .failure(failure)
        } catch is DeadlineExceeded {
            result = .failure(
                CallFailure(
                    name: name, reason: "timeout",
                    error: .gatewayTimeout("Call '\(callName)' took longer than \(timeoutText).")))
        } catch let error as GatewayError {
            result = .failure(Self.failure(name: name, error: error))
        } catch {
            result = .failure(
                CallFailure(name: name, reason: "failed", error: .badGateway("Call '\(callName)' failed.")))
        }
        child.finish()
        let elapsed = (ContinuousClock.now - start).milliseconds
        func record(status: Int, error: String?, cache: String? = nil) {
            exchange.recordBackendCall(
                BackendCallRecord(
                    name: name, target: child.upstreamTarget, status: status, milliseconds: elapsed, error: error,
                    spanID: trace.spanID, cache: cache))
        }
        switch result {
        case .failure(let failure):
            record(status: 0, error: failure.reason)
            return .failure(failure)
        case .success(let (status, headers, bytes)):
            let code = status.code
            guard (200..<300).contains(code) else {
                record(status: code, error: "status \(code)")
                return .failure(Self.failure(name: name, status: code, callName: callName))
            }
            let parsed: JSONValue
            let held: Int
            do {
                (parsed, held) = try Self.parse(bytes, headers: headers, limit: maxSize)
            } catch {
                record(status: code, error: "not json")
                return .failure(
                    CallFailure(
                        name: name, reason: "not json", error: .badGateway("Call '\(callName)' did not answer JSON.")))
            }
            // What is held counts, inflated: a small gzip body can be large.
            guard budget.take(held) else {
                record(status: code, error: "over max-merged-size")
                return .failure(Self.overBudget(name: name, callName: callName, budget: budget))
            }
            let lifetime = CallAnswer.sharedLifetime(of: headers)
            let answer = CallAnswer(status: code, headers: headers, body: parsed, sharedLifetime: lifetime)
            if let cache, let cacheKey, let lifetime {
                cache.store(answer, bytes: held, for: cacheKey, lifetime: lifetime, now: ContinuousClock.now)
                record(status: code, error: nil, cache: "miss")
            } else {
                record(status: code, error: nil)
            }
            return .success(answer)
        }
    }

    static func overBudget(name: String, callName: String, budget: AnswerBudget) -> CallFailure {
        CallFailure(
            name: name, reason: "over max-merged-size",
            error: .badGateway("The calls' answers passed the endpoint's \(budget.limit) bytes at call '\(callName)'."))
    }

    /// The answer's JSON, and the bytes it was parsed from (inflated); an empty body is `null`. A
    /// gzip or deflate body is inflated within the limit.
    static func parse(_ bytes: ByteBuffer, headers: HTTPFields, limit: Int) throws -> (JSONValue, Int) {
        var bytes = bytes
        if let coding = headers[.contentEncoding].flatMap({ ContentCoding(rawValue: $0.lowercased()) }) {
            bytes = try BoundedInflater.inflate(bytes, coding: coding, limit: limit)
        } else if let coding = headers[.contentEncoding], coding.lowercased() != "identity" {
            throw CallFailure(name: "", reason: "not json", error: .badGateway(""))
        }
        guard bytes.readableBytes > 0 else { return (.null, 0) }
        return (try JSONParser.parse(Array(bytes.readableBytesView)), bytes.readableBytes)
    }

    /// What a required call's error status gives the client: the backend's word on the client's
    /// input (400, 404, 409, 422) is passed on; anything else is the gateway's trouble (502).
    static func failure(name: String, status: Int, callName: String) -> CallFailure {
        let detail = "Call '\(callName)' answered \(status)."
        let error: GatewayError =
            switch status {
            case 400, 422: .badRequest(detail)
            case 404: .notFound(detail)
            case 409: .conflict(detail)
            default: .badGateway(detail)
            }
        return CallFailure(name: name, reason: "status \(status)", error: error)
    }

    /// A gateway error of the proxy stage (no target, breaker open, timeout, connection refused) as a call's failure.
    static func failure(name: String, error: GatewayError) -> CallFailure {
        let reason =
            switch error.slug {
            case "gateway-timeout": "timeout"
            case "upstream-unavailable": "unavailable"
            default: "unreachable"
            }
        return CallFailure(name: name, reason: reason, error: error)
    }

    /// The cache key: upstream, method, path and every header sent but the per-request ones.
    static func cacheKey(upstream: String, head: HTTPRequest) -> String {
        var key = upstream + " " + head.method.rawValue + " " + (head.path ?? "/")
        for field in head.headerFields {
            key += "\n" + field.name.canonicalName + ":" + field.value
        }
        return key
    }

    struct DeadlineExceeded: Error {}

    /// `work`'s value, or `DeadlineExceeded` once `limit` has passed (the work is then cancelled).
    static func within<T: Sendable>(
        _ limit: Duration, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
            return value
        }
    }
}
