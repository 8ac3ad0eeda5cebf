import NIOCore
import NIOSSL
import PorticoConfig

/// An upstream's connection pools, one per event loop of the gateway's group.
///
/// Built once with the upstream and never changed, so finding the pool of the current loop
/// takes no lock. The connection limit of a target (`max-connections`) is shared out evenly
/// between the loops.
final class UpstreamConnections: Sendable {
    private let pools: [ObjectIdentifier: LoopConnectionPool]
    private let group: any EventLoopGroup
    /// For `protocol: h2` with `https://` targets: the TLS client context (the upstream's CA,
    /// client certificate, ALPN `h2`), made once; nil if it could not be (the streaming path then serves).
    let h2TLS: NIOSSLContext?

    init(config: UpstreamConfig, eventLoopGroup: any EventLoopGroup) {
        self.group = eventLoopGroup
        let loops = Array(eventLoopGroup.makeIterator())
        let share = (config.maxConnections + loops.count - 1) / max(loops.count, 1)
        var tls: NIOSSLContext?
        if config.protocol == .h2,
            config.targets.contains(where: { $0.scheme == "https" }) || config.dns?.scheme == "https"
        {
            var configuration = config.tls.map(UpstreamPool.clientTLS) ?? TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = ["h2"]
            tls = try? NIOSSLContext(configuration: configuration)
        }
        self.h2TLS = tls
        var pools: [ObjectIdentifier: LoopConnectionPool] = [:]
        for loop in loops {
            pools[ObjectIdentifier(loop)] = LoopConnectionPool(
                eventLoop: loop, limit: share, config: config, h2TLS: tls)
        }
        self.pools = pools
    }

    /// The pool of `loop`; nil for a loop outside the group (the caller then takes the slow path).
    func pool(for loop: any EventLoop) -> LoopConnectionPool? {
        pools[ObjectIdentifier(loop)]
    }

    /// The pool of the group's next loop, for a caller on none of them (the streaming path).
    func anyPool() -> LoopConnectionPool? {
        pool(for: group.any())
    }

    /// Closes every loop's idle connections.
    func shutdown() async {
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.shutdown() }.get()
        }
    }
}
