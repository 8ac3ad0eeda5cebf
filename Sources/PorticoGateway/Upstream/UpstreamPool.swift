import AsyncHTTPClient
import Logging
import NIOCore
import PorticoConfig
import Synchronization

/// The runtime side of one upstream: its targets and the pooled, kept-alive connections to them.
///
/// Each pool owns its `HTTPClient`, so its connect and idle timeouts are its own and removing the
/// upstream closes exactly its connections.
public final class UpstreamPool: Sendable {
    public let config: UpstreamConfig
    let client: HTTPClient
    private let cursor = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    /// Targets repeated by weight, so round robin honours weights without per-request work.
    private let schedule: [TargetConfig]

    init(config: UpstreamConfig, eventLoopGroup: any EventLoopGroup) {
        self.config = config
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .milliseconds(config.connectTimeout.milliseconds),
            read: .milliseconds(config.idleTimeout.milliseconds)
        )
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: config.maxConnections
        )
        // A refused connection should fail the request now (502), not be retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        self.client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        var schedule: [TargetConfig] = []
        for target in config.targets {
            schedule += Array(repeating: target, count: max(0, target.weight))
        }
        self.schedule = schedule.isEmpty ? config.targets : schedule
    }

    /// The next target, weighted round robin.
    func nextTarget() -> TargetConfig {
        let index = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return schedule[Int(UInt(bitPattern: index) % UInt(schedule.count))]
    }

    /// Closes the pooled connections; callers first wait for the requests using them.
    func shutdown() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await client.shutdown()
    }

    /// True once `shutdown()` has been called.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }
}
