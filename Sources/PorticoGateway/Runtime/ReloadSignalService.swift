import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the config on SIGHUP, as daemons conventionally do.
package struct ReloadSignalService: Service {
    let runtime: GatewayRuntime

    package init(runtime: GatewayRuntime) {
        self.runtime = runtime
    }

    package func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await runtime.reload(trigger: "SIGHUP")
        }
    }
}
