import AsyncHTTPClient
import Foundation
import PorticoConfig
import PorticoTesting
import Synchronization
import Testing

/// Which config versions may be active, epoch by epoch, as the test flips them.
final class VersionTracker: Sendable {
    /// Each epoch's possible versions: one while stable, two while a reload is in progress.
    private let epochs = Mutex<[Set<String>]>([])

    init(initial: String) { epochs.withLock { $0 = [[initial]] } }

    var epoch: Int { epochs.withLock { $0.count - 1 } }

    func begin(from old: String, to new: String) { epochs.withLock { $0.append([old, new]) } }
    func settle(on version: String) { epochs.withLock { $0.append([version]) } }

    /// The versions that may have served a request that started in `first` and ended in `last`.
    func possible(_ first: Int, _ last: Int) -> Set<String> {
        epochs.withLock { Set($0[first...last].joined()) }
    }
}

/// What the client tasks share.
final class LoadCounters: Sendable {
    let done = Atomic<Bool>(false)
    let requests = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
}

@Suite("Hot reload under load", .serialized)
struct ReloadUnderLoadTests {
    @Test("32 clients see no failure while the config flips 50 times through the file, SIGHUP and the admin API")
    func flipUnderLoad() async throws {
        try await withUpstream { upstreamPort in
            let folder = try GatewayHarness.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let file = folder + "/gateway.yaml"
            var texts: [String: String] = [:]
            var hashes: [String: String] = [:]
            for version in ["A", "B"] {
                let text = ReloadTests.config(
                    version: version, upstreamPort: upstreamPort, extraRoute: "only-\(version)")
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                texts[version] = text
                hashes[version] = try ConfigLoader().load(file: file).contentHash
            }
            try texts["A"]!.write(toFile: file, atomically: true, encoding: .utf8)
            let gateway = try PorticoProcess(["serve", "--config", file])
            let gatewayPort = try await gateway.port(of: "gateway")
            let adminPort = try await gateway.port(of: "admin")

            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let client = TestClient(client: http, baseURL: "http://127.0.0.1:\(gatewayPort)")
            let admin = TestClient(client: http, baseURL: "http://127.0.0.1:\(adminPort)")
            let auth = [("Authorization", "Bearer admin-token-0123456789abcdef012345")]
            let tracker = VersionTracker(initial: "A")
            let counters = LoadCounters()
            var triggers: [String: Int] = [:]

            do {
                try await CLITests().waitUntilAnswering(client)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<32 {
                        group.addTask {
                            while !counters.done.load(ordering: .relaxed) {
                                let first = tracker.epoch
                                do {
                                    let answer = try await client.send(.GET, "/api/echo/w\(worker)")
                                    let possible = tracker.possible(first, tracker.epoch)
                                    let version = answer.headers.first(name: "X-Version") ?? "none"
                                    if answer.status != 200 || !possible.contains(version) {
                                        counters.failures.withLock {
                                            $0.append(
                                                "status \(answer.status), version \(version), possible \(possible)")
                                        }
                                    }
                                } catch {
                                    counters.failures.withLock { $0.append("\(error)") }
                                }
                                counters.requests.add(1, ordering: .relaxed)
                            }
                        }
                    }
                    var active = "A"
                    for flip in 0..<50 {
                        let next = active == "A" ? "B" : "A"
                        tracker.begin(from: active, to: next)
                        try texts[next]!.write(toFile: file, atomically: true, encoding: .utf8)
                        switch flip % 3 {
                        case 0: break  // the file watcher notices
                        case 1: kill(gateway.process.processIdentifier, SIGHUP)
                        default: _ = try await admin.send(.POST, "/admin/reload", headers: auth)
                        }
                        var status: [String: Any] = [:]
                        for _ in 0..<500 {
                            status = try await admin.send(.GET, "/admin/status", headers: auth).json()
                            if status["config_hash"] as? String == hashes[next] { break }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        #expect(status["config_hash"] as? String == hashes[next], "flip \(flip) did not apply")
                        let trigger = (status["reloads"] as? [String: Any])?["last_trigger"] as? String ?? "?"
                        triggers[trigger, default: 0] += 1
                        tracker.settle(on: next)
                        active = next
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    counters.done.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }
                let status = try await admin.send(.GET, "/admin/status", headers: auth).json()
                let reloads = status["reloads"] as? [String: Any]
                #expect(reloads?["succeeded"] as? Int == 50)
                #expect(reloads?["failed"] as? Int == 0)
            } catch {
                counters.done.store(true, ordering: .relaxed)
                kill(gateway.process.processIdentifier, SIGTERM)
                _ = gateway.finish()
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
            kill(gateway.process.processIdentifier, SIGTERM)
            let result = gateway.finish()
            #expect(result.status == 0)

            print(
                "reload under load: \(counters.requests.load(ordering: .relaxed)) requests over 50 flips, applied by \(triggers)"
            )
            let failed = counters.failures.withLock { $0 }
            #expect(failed.isEmpty, "\(failed.count) failed requests, first: \(failed.prefix(3))")
            #expect(counters.requests.load(ordering: .relaxed) > 500)
            for trigger in ["file", "SIGHUP", "admin"] {
                #expect(
                    (triggers[trigger] ?? 0) >= 10, "\(trigger) applied \(triggers[trigger] ?? 0) flips: \(triggers)")
            }
        }
    }
}
