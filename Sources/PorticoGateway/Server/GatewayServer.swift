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
        channelConfiguration.idleTimeout = .milliseconds(config.server.idleTimeout.milliseconds)
        let logger = self.logger
        let onListening = self.onListening
        let server = try HTTPServerBuilder.http1(configuration: channelConfiguration).buildServer(
            configuration: ServerConfiguration(address: .hostname(config.listen.host, port: config.listen.port)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, channel in
                try await handler.respond(to: request, writer: writer, channel: channel)
            },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("gateway listening", metadata: ["listen.address": "\(config.listen.host):\(port)"])
                await onListening(port)
            }
        )
        try await server.run()
    }
}
