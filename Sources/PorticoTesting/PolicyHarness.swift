import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import PorticoGateway
import Synchronization

/// A config's routes and policies, run without a server: the config is compiled as the gateway
/// compiles it, a request goes through the chain of the route it matches, and a closure plays
/// the upstream. `send` runs the streaming path's chain (`Policy.handle`), `sendFast` the
/// event-loop path's (`FastStart`, `FastPolicy`), so a test can hold the two to one answer.
package struct PolicyHarness: Sendable {
    package let runtime: GatewayRuntime

    /// What the upstream answers: a head and a body.
    package struct Reply: Sendable {
        package var head: HTTPResponse
        package var body: String
        package init(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: String = "") {
            self.head = HTTPResponse(status: status, headerFields: headers)
            self.body = body
        }
    }

    /// What the client gets, and what reached the upstream.
    package struct Answer: Sendable {
        package let head: HTTPResponse
        package let body: String
        /// The head the upstream received; nil when a policy answered first.
        package let forwarded: HTTPRequest?
        package let exchange: Exchange?
        package var status: Int { head.status.code }
    }

    /// Runs `body` with a harness for `yaml`, then closes the upstream pools the config made.
    package static func with<T: Sendable>(yaml: String, _ body: (PolicyHarness) async throws -> T) async throws -> T {
        let harness = try PolicyHarness(yaml: yaml)
        do {
            let result = try await body(harness)
            await harness.shutdown()
            return result
        } catch {
            await harness.shutdown()
            throw error
        }
    }

    /// Closes the upstream pools (their HTTP clients must be shut down before they go).
    package func shutdown() async {
        for pool in runtime.snapshot.pools.values { await pool.shutdown() }
    }

    /// Loads `yaml` (written to a temporary folder, so that problems name a file and line).
    /// Call `shutdown()` when done, or use `with(yaml:_:)`.
    package init(yaml: String, logger: Logger = Logger(label: "portico.policy-harness")) throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        let file = folder + "/portico.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader().load(file: file)
        runtime = GatewayRuntime(config: config, logger: logger)
    }

    package static func request(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:]) -> HTTPRequest
    {
        HTTPRequest(method: method, scheme: "http", authority: "gateway.test", path: path, headerFields: headers)
    }

    /// The request through the streaming path's chain, the route's terminal stage replaced by `upstream`.
    package func send(
        _ head: HTTPRequest, body: String = "", peer: String = "127.0.0.1",
        upstream: @escaping @Sendable (HTTPRequest) -> Reply = { _ in Reply() }
    ) async throws -> Answer {
        let terminal = Terminal(upstream: upstream)
        let served = await runtime.snapshot.respond(
            to: Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body))), requestID: "harness-request",
            trace: nil,
            clientAddress: peer, start: .now, logger: Logger(label: "portico.policy-harness"), terminal: terminal)
        let collector = BodyCollector()
        try await served.response.body.write(collector)
        served.exchange?.finish()
        return Answer(
            head: served.response.head, body: collector.text, forwarded: terminal.forwarded.withLock { $0 },
            exchange: served.exchange)
    }

    /// The request through the event-loop path's first step and response phase; nil when that
    /// path would pass it to the streaming path, or a policy's work must wait first.
    package func sendFast(
        _ head: HTTPRequest, peer: String = "127.0.0.1", upstream: (HTTPRequest) -> Reply = { _ in Reply() }
    ) -> Answer? {
        let snapshot = runtime.snapshot
        guard
            let started = FastStart.start(
                head, snapshot: snapshot, peer: peer, at: .now, requestID: { _ in "harness-request" }),
            started.waiting == nil
        else { return nil }
        defer { started.exchange.finish() }
        if let answer = started.answer {
            return Answer(head: answer, body: "", forwarded: nil, exchange: started.exchange)
        }
        if let refusal = started.refusal {
            var (problem, body) = refusal.problem(
                requestID: started.exchange.requestID, instance: started.path, requestIDHeader: snapshot.requestIDHeader
            )
            problem.headerFields.append(contentsOf: started.exchange.errorFields)
            return Answer(head: problem, body: String(buffer: body), forwarded: nil, exchange: started.exchange)
        }
        guard let pool = snapshot.config.upstreams.first(where: { $0.name == started.route.upstream }),
            let target = pool.targets.first
        else { return nil }
        let forwarded = started.upstreamHead(for: target)
        let reply = upstream(forwarded)
        return Answer(
            head: started.respond(to: reply.head), body: reply.body, forwarded: forwarded, exchange: started.exchange)
    }

    /// The route's last stage, played by a closure; it keeps the head it was given.
    final class Terminal: Policy {
        let phase = PolicyPhase.upstream
        let priority = 0
        let upstream: @Sendable (HTTPRequest) -> Reply
        let forwarded = Mutex<HTTPRequest?>(nil)

        init(upstream: @escaping @Sendable (HTTPRequest) -> Reply) { self.upstream = upstream }

        func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
            forwarded.withLock { $0 = request.head }
            let reply = upstream(request.head)
            var headers = reply.head.headerFields
            headers[.contentLength] = String(reply.body.utf8.count)
            return Response(
                status: reply.head.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
    }

    /// Gathers a response body.
    final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
        private(set) var text = ""
        func write(_ buffer: ByteBuffer) async throws { text += String(buffer: buffer) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
