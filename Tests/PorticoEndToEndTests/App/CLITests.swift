import Foundation
import GRDB
import PorticoTesting
import Testing

/// Runs the real `portico` binary. Its standard output (where the JSON log goes) and standard
/// error go to files, so the log can be read while it runs.
struct PorticoProcess {
    let process: ChildProcess
    let outputFile: String
    let errorFile: String

    init(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws {
        let id = UUID().uuidString
        outputFile = NSTemporaryDirectory() + "portico-stdout-" + id
        errorFile = NSTemporaryDirectory() + "portico-stderr-" + id
        process = try ChildProcess(
            porticoBinary, arguments, environment: environment, outputFile: outputFile, errorFile: errorFile,
            input: input)
    }

    var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "" }

    /// The JSON log lines written so far (access-log lines included).
    var logLines: [[String: Any]] {
        output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// The port a listener logged (`gateway listening` or `admin listening`), waiting up to 10 s for it.
    func port(of listener: String) async throws -> Int {
        for _ in 0..<500 {
            for line in logLines where line["msg"] as? String == "\(listener) listening" {
                if let address = line["listen.address"] as? String,
                    let port = address.split(separator: ":").last.flatMap({ Int($0) })
                {
                    return port
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestingError("portico did not log '\(listener) listening': \(output) \(errors)")
    }

    /// Waits for exit and returns the status and both outputs.
    func finish() -> (status: Int32, output: String, errors: String) {
        let status = process.waitUntilExit()
        let (out, err) = (output, errors)
        try? FileManager.default.removeItem(atPath: outputFile)
        try? FileManager.default.removeItem(atPath: errorFile)
        return (status, out, err)
    }
}

@Suite("The portico command", .serialized)
struct CLITests {
    @Test("validate prints OK for the example config and file:line:column lines for a broken one")
    func validate() throws {
        let good = try PorticoProcess(
            ["validate", packageRoot + "/config/gateway.yaml"],
            environment: [
                "PORTICO_ADMIN_TOKEN": "test-admin-token-0123456789abcdef",
                "PORTICO_DEMO_KEY": "demo-key-0123456789abcdef",
            ]
        )
        .finish()
        #expect(good.status == 0)
        #expect(good.output == "OK\n")

        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let broken = folder + "/broken.yaml"
        try
            "listen: 127.0.0.1:8080\nupstreams:\n  svc:\n    targets: [{url: 'http://127.0.0.1:1'}]\n    timeout: soon\napis:\n  - {name: a, upstream: none}\n"
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try PorticoProcess(["validate", broken]).finish()
        #expect(bad.status == 1)
        let lines = bad.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(broken + ":5:14: timeout: bad duration 'soon'"))
        #expect(lines[1].hasPrefix(broken + ":7:25: API 'a' names upstream 'none'"))
    }

    @Test("--version and --help answer")
    func versionAndHelp() throws {
        let version = try PorticoProcess(["--version"]).finish()
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("0."))
        for arguments in [["--help"], ["serve", "--help"], ["validate", "--help"]] {
            let help = try PorticoProcess(arguments).finish()
            #expect(help.status == 0)
            #expect(help.output.contains("USAGE"))
        }
    }

    @Test("SIGTERM lets an in-flight request finish, flushes the call log and exits 0", arguments: [SIGTERM, SIGINT])
    func gracefulShutdown(signal: Int32) async throws {
        try await withUpstream { upstreamPort in
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let yaml = """
                listen: 127.0.0.1:0
                store:
                  sqlite: calls.sqlite
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - {name: backend, base-path: /api, upstream: backend}
                """
            try yaml.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
            let gateway = try PorticoProcess(["serve", "--config", folder + "/gateway.yaml"])
            let gatewayPort = try await gateway.port(of: "gateway")
            try await withClient(baseURL: "http://127.0.0.1:\(gatewayPort)") { client in
                try await waitUntilAnswering(client)
                for index in 0..<300 {
                    _ = try await client.send(.GET, "/api/echo/bulk", headers: [("X-Request-Id", "bulk-\(index)")])
                }
                async let slow = client.send(.GET, "/api/slow/1000")
                try await Task.sleep(for: .milliseconds(300))
                kill(gateway.process.processIdentifier, signal)
                let answer = try await slow
                #expect(answer.status == 200)
                #expect(answer.text == "slow")
            }
            let result = gateway.finish()
            #expect(result.status == 0)
            let lines = result.output.split(separator: "\n")
            #expect(lines.contains { $0.contains("\"path\":\"/api/slow/1000\"") && $0.contains("\"status\":200") })
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
            #expect(try countCalls(folder + "/calls.sqlite", path: "/api/slow/1000") == 1)
            // Shutdown loses nothing: every call is in the store.
            #expect(try countCalls(folder + "/calls.sqlite", path: "/api/echo/bulk") == 300)

            // The CLI reads the same store, with no gateway running.
            let logs = try PorticoProcess([
                "logs", "--config", folder + "/gateway.yaml", "--since", "10m", "--limit", "1000",
            ]).finish()
            #expect(logs.status == 0)
            #expect(
                logs.output.split(separator: "\n").filter { $0.contains("\"path\":\"/api/echo/bulk\"") }.count == 300)
            let slowOnly = try PorticoProcess(["logs", "--config", folder + "/gateway.yaml", "--min-ms", "900"])
                .finish()
            // Only calls of 900 ms or more: the slow one (on a loaded machine perhaps a stalled other too, never the bulk).
            let slowCount = slowOnly.output.split(separator: "\n").count
            #expect(slowOnly.output.contains("/api/slow/1000"))
            #expect(slowCount >= 1 && slowCount < 10)
            let table = try PorticoProcess([
                "analytics", "--config", folder + "/gateway.yaml", "--since", "1h", "--by", "status",
            ]).finish()
            #expect(table.status == 0)
            let statusRow = table.output.split(separator: "\n").first { $0.hasPrefix("2xx") }
            let successes = try await DatabaseQueue(path: folder + "/calls.sqlite").read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls WHERE status / 100 = 2") ?? 0
            }
            #expect(successes >= 301)  // the bulk calls, the slow one, and the readiness probes
            #expect(
                statusRow?.split(separator: " ").dropFirst().first == Substring(String(successes)), "\(table.output)")
            let bad = try PorticoProcess(["logs", "--config", folder + "/gateway.yaml", "--status", "teapot"]).finish()
            #expect(bad.status != 0)
        }
    }

    @Test("SIGTERM over HTTP/2: the stream in flight finishes, and the gateway exits 0 without waiting out the drain")
    func gracefulShutdownHTTP2() async throws {
        try await withUpstream { upstreamPort in
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let yaml = """
                listeners:
                  - listen: 127.0.0.1:0
                    protocols: [h2c, http/1.1]
                server: {access-log: false, drain-timeout: 20s}
                \(upstreamYAML(port: upstreamPort))
                apis:
                  - {name: backend, base-path: /api, upstream: backend}
                """
            try yaml.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
            let gateway = try PorticoProcess(["serve", "--config", folder + "/gateway.yaml"])
            let port = try await gateway.port(of: "gateway")
            try await withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                try await waitUntilAnswering(client)
            }
            // The stream is open when the signal comes; the drain waits for it, not for its timeout.
            async let slow = curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/api/slow/1500"])
            try await Task.sleep(for: .milliseconds(500))
            let signalled = ContinuousClock.now
            kill(gateway.process.processIdentifier, SIGTERM)
            let answer = try await slow
            #expect(answer.version == "2")
            #expect(answer.status == 200)
            #expect(answer.body == "slow")
            let result = gateway.finish()
            #expect(result.status == 0)
            #expect(ContinuousClock.now - signalled < .seconds(15), "the drain waited for its timeout")
        }
    }

    func waitUntilAnswering(_ client: TestClient) async throws {
        for _ in 0..<200 {
            if (try? await client.send(.GET, "/api/echo/ready", timeout: .seconds(1)))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestingError("gateway did not start")
    }

    func countCalls(_ database: String, path: String) throws -> Int {
        try DatabaseQueue(path: database).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls WHERE path = ?", arguments: [path]) ?? 0
        }
    }
}
