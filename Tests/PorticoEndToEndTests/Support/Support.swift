import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import PorticoConfig
import PorticoTesting

/// Runs the test upstream for the length of `body`, passing its port.
func withUpstream<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
    let port = BoundPort()
    var logger = Logger(label: "test.upstream")
    logger.logLevel = .warning
    return try await ServiceRunner.with([TestUpstream.application(port: port, logger: logger)], logger: logger) {
        try await body(try await port.wait())
    }
}

/// A client for the length of `body`, shut down afterwards; it decodes gzip and deflate
/// answers only when `decompressing`.
func withClient<T: Sendable>(
    baseURL: String, decompressing: Bool = false, _ body: (TestClient) async throws -> T
) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.decompression = decompressing ? .enabled(limit: .ratio(100)) : .disabled
    configuration.redirectConfiguration = .disallow
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(TestClient(client: client, baseURL: baseURL))
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// The `portico` binary built next to the tests (`make test` builds it first).
let porticoBinary: String = {
    if let path = ProcessInfo.processInfo.environment["PORTICO_BINARY"] { return path }
    return packageRoot + "/.build/debug/portico"
}()

/// The upstream config section pointing at a test upstream.
func upstreamYAML(name: String = "backend", port: Int, extra: String = "") -> String {
    """
    upstreams:
      \(name):
        targets:
          - url: http://127.0.0.1:\(port)
    \(extra)
    """
}

/// The first upstream's targets as `GET /admin/upstreams` reports them (admin token `t`).
func adminTargets(_ client: TestClient, adminPort: Int) async throws -> [[String: Any]] {
    let report = try await TestClient(client: client.client, baseURL: "http://127.0.0.1:\(adminPort)")
        .send(.GET, "/admin/upstreams", headers: [("Authorization", "Bearer test-admin-token-0123456789abcdef")]).json()
    return ((report["upstreams"] as? [[String: Any]])?.first?["targets"] as? [[String: Any]]) ?? []
}

/// Runs an in-process HTTP server with `router` on a free port for the length of `body`.
func withServer<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: (Int) async throws -> T) async throws -> T {
    let port = BoundPort()
    var logger = Logger(label: "test.server")
    logger.logLevel = .warning
    let application = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    return try await ServiceRunner.with([application], logger: logger) {
        try await body(try await port.wait())
    }
}

/// The headers the test upstream's echo saw, by lower-cased name.
func echoedHeaders(_ answer: TestClient.Answer) throws -> [String: [String]] {
    var result: [String: [String]] = [:]
    for pair in (try answer.json()["headers"] as? [[String]]) ?? [] {
        result[pair[0].lowercased(), default: []].append(pair[1])
    }
    return result
}

/// A client for the gateway's admin API, with the admin token `t`.
func adminClient(_ client: TestClient, port: Int) -> AdminClient {
    AdminClient(client: TestClient(client: client.client, baseURL: "http://127.0.0.1:\(port)"))
}

struct AdminClient: Sendable {
    let client: TestClient

    func send(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> TestClient.Answer {
        try await client.send(
            method, path,
            headers: [
                ("Authorization", "Bearer test-admin-token-0123456789abcdef"), ("Content-Type", "application/json"),
            ],
            body: json.map { .bytes(ByteBuffer(string: $0)) })
    }
}

/// What a finished `portico` command printed.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    /// Standard error.
    var output: String
}

/// Runs the real `portico` binary to the end, off the test's threads.
func runPortico(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                let process = try PorticoProcess(arguments, input: input)
                let result = process.finish()
                continuation.resume(
                    returning: CommandResult(status: result.status, stdout: result.output, output: result.errors))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
