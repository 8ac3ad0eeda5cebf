import AsyncHTTPClient
import Foundation
import Logging
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

/// A client for the length of `body`, shut down afterwards.
func withClient<T: Sendable>(baseURL: String, _ body: (TestClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.decompression = .disabled
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

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The `portico` binary built next to the tests (`make test` builds it first).
let porticoBinary: String = {
    if let path = ProcessInfo.processInfo.environment["PORTICO_BINARY"] { return path }
    return packageRoot + "/.build/debug/portico"
}()

/// A fixture file's path.
func fixture(_ name: String) -> String {
    packageRoot + "/Tests/PorticoTests/Fixtures/" + name
}

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
        .send(.GET, "/admin/upstreams", headers: [("Authorization", "Bearer t")]).json()
    return ((report["upstreams"] as? [[String: Any]])?.first?["targets"] as? [[String: Any]]) ?? []
}
