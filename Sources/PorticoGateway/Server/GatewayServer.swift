import Hummingbird
import PorticoStore
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PorticoConfig
import ServiceLifecycle

/// The data-plane listener, as a `Service`: HTTP/1.1 with keep-alive, bodies streamed both ways.
///
/// On graceful shutdown it stops accepting, lets requests in flight finish, and returns.
public struct GatewayServer: Service {
    let runtime: GatewayRuntime
    let sinks: [any CallRecordSink]
    let metrics: GatewayMetrics?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// - Parameter onListening: called with the bound port once the listener is up (useful with port 0).
    public init(
        runtime: GatewayRuntime,
        sinks: [any CallRecordSink],
        metrics: GatewayMetrics? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.runtime = runtime
        self.sinks = sinks
        self.metrics = metrics
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let config = runtime.snapshot.config
        let handler = GatewayHandler(runtime: runtime, sinks: sinks, metrics: metrics, logger: logger)
        var channelConfiguration = HTTP1Channel.Configuration()
        // The idle timeout is `EventLoopPath`'s, which sees every request; Hummingbird's would
        // see only those passed on to the streaming path.
        channelConfiguration.idleTimeout = nil
        let idleTimeout = TimeAmount.milliseconds(config.server.idleTimeout.milliseconds)
        let logger = self.logger
        let onListening = self.onListening
        let base = HTTP1Channel(
            responder: { request, writer, channel in
                try await handler.respond(to: request, writer: writer, channel: channel)
            },
            configuration: channelConfiguration)
        let settings = GuardedHTTP1Channel.ServerSettings(
            headerTimeout: .milliseconds(config.server.headerTimeout.milliseconds),
            minimumBodyRate: config.server.minBodyRate,
            bodyGrace: .milliseconds(config.server.bodyGrace.milliseconds))
        let guarded = GuardedHTTP1Channel(
            base: base, budget: runtime.connections, server: settings, logger: logger,
            eventLoopPath: { EventLoopPath(gateway: handler, connection: $0, idleTimeout: idleTimeout) })
        let server = guarded.server(
            configuration: ServerConfiguration(address: .hostname(config.listen.host, port: config.listen.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "gateway listening",
                    metadata: [
                        "listen.address": "\(config.listen.host):\(port)",
                        "connections.max": "\(runtime.connections.maximum)",
                        "connections.max-per-ip": "\(runtime.connections.maximumPerAddress)",
                    ])
                await onListening(port)
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
        try await server.run()
    }
}
