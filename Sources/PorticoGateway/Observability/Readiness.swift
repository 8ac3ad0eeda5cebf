import Foundation
import PorticoConfig
import Synchronization

/// What `/readyz` reports: the runtime has started with a compiled config, it is not shutting
/// down, and the store takes writes (probed with a real write, at most once a second).
package final class Readiness: Sendable {
    private struct State {
        var started = false
        var draining = false
        var lastProbe: (at: ContinuousClock.Instant, error: String?)?
    }

    private let state = Mutex(State())
    private let probe: @Sendable () async throws -> Void

    /// - Parameter probe: a write to the store; it throws when the store cannot take one.
    package init(probe: @escaping @Sendable () async throws -> Void = {}) {
        self.probe = probe
    }

    /// The runtime is running: the config is compiled and its upstreams' checks started.
    func markStarted() { state.withLock { $0.started = true } }

    /// Shutdown began: stop sending traffic here.
    func markDraining() { state.withLock { $0.draining = true } }

    /// Whether the gateway is ready, with each check's result as a JSON object.
    package func report(config: String) async -> (ready: Bool, json: String) {
        let now = ContinuousClock.now
        let (started, draining, cached) = state.withLock { ($0.started, $0.draining, $0.lastProbe) }
        var storeError: String?
        if let cached, now - cached.at < .seconds(1) {
            storeError = cached.error
        } else {
            do {
                try await probe()
            } catch {
                storeError = "\(error)"
            }
            state.withLock { $0.lastProbe = (now, storeError) }
        }
        let ready = started && !draining && storeError == nil
        var json =
            "{\"ready\":\(ready),\"config\":\(config),\"runtime\":\"\(draining ? "draining" : started ? "running" : "starting")\""
        json += ",\"store\":" + (storeError.map { JSONText.quote("failing: " + $0) } ?? "\"writable\"") + "}"
        return (ready, json)
    }
}
