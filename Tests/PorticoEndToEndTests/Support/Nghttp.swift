import Foundation
import PorticoTesting

/// What `nghttp -v` saw of one request's stream: the response status (0 when none came) and the
/// error code of the RST_STREAM that ended it, if one did (`NO_ERROR`, `CANCEL`, ...).
struct NghttpResult {
    var status: Int
    var reset: String?
    var log: String
}

/// Runs `nghttp -v` (h2c with prior knowledge, a 10 s limit) with `arguments`, for the frames
/// that `curl` does not show: curl 7.88 also fails a request whose whole answer came before
/// its upload ended (exit 92, "stream closed" on its send path), however the stream ended.
func nghttp(_ arguments: [String]) async throws -> NghttpResult {
    try await RawClient.offload { try nghttpNow(arguments) }
}

private func nghttpNow(_ arguments: [String]) throws -> NghttpResult {
    let logFile = NSTemporaryDirectory() + "nghttp-log-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: logFile) }
    let process = try ChildProcess(
        "/usr/bin/env", ["nghttp", "-v", "-t", "10"] + arguments, outputFile: logFile, errorFile: logFile)
    _ = process.waitUntilExit()
    let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    var status = 0
    var reset: String?
    var afterReset = false
    for line in log.split(separator: "\n") {
        if let range = line.range(of: ":status: "), status == 0 {
            status = Int(line[range.upperBound...].prefix(3)) ?? 0
        }
        if line.contains("recv RST_STREAM frame") {
            afterReset = true
        } else if afterReset, let start = line.range(of: "(error_code=") {
            reset = String(line[start.upperBound...].prefix { $0 != "(" })
            afterReset = false
        }
    }
    return NghttpResult(status: status, reset: reset, log: log)
}
