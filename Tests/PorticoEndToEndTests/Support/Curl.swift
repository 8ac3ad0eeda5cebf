import Foundation
import PorticoTesting

/// What `curl` got: the status (0 when there was no answer), the HTTP version it spoke (`1.1`,
/// `2`) and the body.
struct CurlResult {
    var status: Int
    var version: String
    var body: String
}

/// Runs `curl` with `arguments` (a 10 s limit), for the HTTP/2 tests' prior-knowledge requests
/// that AsyncHTTPClient does not make. It waits on a thread of its own: blocking the cooperative
/// pool, which serves HTTP/2 streams, would starve the gateway under test.
func curl(_ arguments: [String]) async throws -> CurlResult {
    try await RawClient.offload { try curlNow(arguments) }
}

private func curlNow(_ arguments: [String]) throws -> CurlResult {
    let id = UUID().uuidString
    let (bodyFile, logFile) = (NSTemporaryDirectory() + "curl-body-" + id, NSTemporaryDirectory() + "curl-log-" + id)
    defer {
        try? FileManager.default.removeItem(atPath: bodyFile)
        try? FileManager.default.removeItem(atPath: logFile)
    }
    let process = try ChildProcess(
        "/usr/bin/env",
        ["curl", "-s", "--max-time", "10", "-o", bodyFile, "-w", "%{http_code} %{http_version}"] + arguments,
        outputFile: logFile, errorFile: logFile)
    _ = process.waitUntilExit()
    let written = ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: " ")
    return CurlResult(
        status: written.first.flatMap { Int($0) } ?? 0,
        version: written.count > 1 ? String(written[1]) : "",
        body: (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? "")
}
