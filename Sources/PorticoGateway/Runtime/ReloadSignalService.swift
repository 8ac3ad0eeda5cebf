import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the config on SIGHUP, as daemons conventionally do.
public struct ReloadSignalService: Service {
    let runtime: GatewayRuntime

    public init(runtime: GatewayRuntime) {
        self.runtime = runtime
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await runtime.reload(trigger: "SIGHUP")
        }
    }
}
