import Logging
import NIOCore
import NIOPosix
import PorticoConfig
import ServiceLifecycle
import Synchronization

/// Holds the active snapshot behind one lock-protected reference and owns the upstream pools.
///
/// As a `Service` it stays up while the gateway runs; on shutdown it closes the pools, after the
/// listeners (which the service group stops first) have drained.
public final class GatewayRuntime: Service, Sendable {
    private let current: Mutex<RuntimeSnapshot>
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    /// Compiles the first snapshot from a loaded config.
    public init(config: GatewayConfig, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.current = Mutex(RuntimeSnapshot(config: config, eventLoopGroup: eventLoopGroup))
    }

    /// The snapshot to use for one request, from start to end.
    public var snapshot: RuntimeSnapshot { current.withLock { $0 } }

    public func run() async throws {
        try? await gracefulShutdown()
        let pools = snapshot.pools.values
        for pool in pools { await pool.shutdown() }
        logger.debug("upstream pools closed", metadata: ["upstream.count": "\(pools.count)"])
    }
}
