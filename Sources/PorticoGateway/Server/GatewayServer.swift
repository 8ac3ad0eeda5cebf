import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import PorticoConfig
import PorticoStore
import ServiceLifecycle

/// The data-plane listeners, as a `Service`: HTTP/1.1 with keep-alive and HTTP/2 (by ALPN, or h2c
/// with prior knowledge), bodies streamed both ways, in cleartext or over TLS (certificates by SNI
/// from the current snapshot), and cleartext listeners that only redirect to HTTPS.
///
/// On graceful shutdown it stops accepting, lets requests in flight finish, and returns.
package struct GatewayServer: Service {
    let runtime: GatewayRuntime
    let sinks: [any CallRecordSink]
    let metrics: GatewayMetrics?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void
    let onListenerListening: @Sendable (Int, Int) async -> Void

    /// - Parameters:
    ///   - onListening: called with the first listener's bound port once it is up (useful with port 0).
    ///   - onListenerListening: called with each listener's index in `listeners` and its bound port.
    package init(
        runtime: GatewayRuntime,
        sinks: [any CallRecordSink],
        metrics: GatewayMetrics? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onListenerListening: @escaping @Sendable (Int, Int) async -> Void = { _, _ in }
    ) {
        self.runtime = runtime
        self.sinks = sinks
        self.metrics = metrics
        self.logger = logger
        self.onListening = onListening
        self.onListenerListening = onListenerListening
    }

    package func run() async throws {
        // A shared store may take a moment to answer at start: open the listeners once its keys
        // are read, so that none is refused for not being read yet (at most 10 s, then anyway).
        if !(await runtime.auth.directory.waitUntilLoaded(limit: .seconds(10))) {
            logger.warning("the store's consumers and keys are not read yet; serving without them until they are")
        }
        let config = runtime.snapshot.config
        let listeners = config.listeners.isEmpty ? [ListenerConfig(listen: config.listen)] : config.listeners
        // The HTTPS port a redirecting listener sends clients to: the first TLS listener's, as bound.
        let httpsIndex = listeners.firstIndex { $0.tls != nil }
        let httpsPort = HTTPSPort(httpsIndex.map { listeners[$0].listen.port } ?? 443)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, listener) in listeners.enumerated() {
                group.addTask {
                    let report: @Sendable (Int) async -> Void = { port in
                        if index == httpsIndex { httpsPort.port = port }
                        if index == 0 { await onListening(port) }
                        await onListenerListening(index, port)
                    }
                    if listener.redirectHTTPS {
                        try await runRedirect(listener, httpsPort: { httpsPort.port }, report: report)
                    } else {
                        try await run(listener, index: index, report: report)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One data-plane listener: cleartext, or TLS with the current snapshot's certificates.
    private func run(
        _ listener: ListenerConfig, index: Int, report: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let config = runtime.snapshot.config
        let handler = GatewayHandler(runtime: runtime, sinks: sinks, metrics: metrics, logger: logger)
        var channelConfiguration = HTTP1Channel.Configuration()
        // The idle timeout is `EventLoopPath`'s, which sees every request; Hummingbird's would
        // see only those passed on to the streaming path.
        channelConfiguration.idleTimeout = nil
        let idleTimeout = TimeAmount.milliseconds(config.server.idleTimeout.milliseconds)
        let logger = self.logger
        let base = HTTP1Channel(
            responder: { request, writer, channel in
                try await handler.respond(to: request, writer: writer, channel: channel)
            },
            configuration: channelConfiguration)
        let settings = GuardedHTTP1Channel.ServerSettings(
            headerTimeout: .milliseconds(config.server.headerTimeout.milliseconds),
            minimumBodyRate: config.server.minBodyRate,
            bodyGrace: .milliseconds(config.server.bodyGrace.milliseconds))
        var guarded = GuardedHTTP1Channel(
            base: base, budget: runtime.connections, server: settings, logger: logger,
            eventLoopPath: { EventLoopPath(gateway: handler, connection: $0, idleTimeout: idleTimeout, parser: $1) })
        if listener.tls != nil {
            let runtime = self.runtime
            guard let certificates = runtime.snapshot.certificates[index] else {
                throw GatewayServerError("the certificates of listener \(listener.listen) could not be read")
            }
            guarded.tls = try certificates.serverContext(protocols: listener.protocols) {
                runtime.snapshot.certificates[index]
            }
        }
        guard listener.servesHTTP2 else { return try await serve(guarded, listener: listener, report: report) }
        let http2 = EdgeHTTP2Connection(
            gateway: handler, responder: base.responder, secure: listener.tls != nil,
            idleTimeout: .milliseconds(config.server.idleTimeout.milliseconds),
            gracefulCloseTimeout: .milliseconds(config.server.drainTimeout.milliseconds), settings: listener.http2)
        let edge = EdgeChannel(http1: guarded, http2: http2, servesHTTP1: listener.servesHTTP1)
        try await serve(edge, listener: listener, report: report)
    }

    /// Runs `channel`'s server on the listener's address until shutdown.
    private func serve(
        _ channel: some ServerChildChannel, listener: ListenerConfig, report: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let runtime = self.runtime
        let logger = self.logger
        let server = channel.server(
            configuration: ServerConfiguration(address: .hostname(listener.listen.host, port: listener.listen.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "gateway listening",
                    metadata: [
                        "listen.address": "\(listener.listen.host):\(port)",
                        "listen.tls": "\(listener.tls != nil)",
                        "listen.protocols": "\(listener.protocols.joined(separator: ","))",
                        "connections.max": "\(runtime.connections.maximum)",
                        "connections.max-per-ip": "\(runtime.connections.maximumPerAddress)",
                    ])
                await report(port)
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
        try await server.run()
    }

    /// A cleartext listener that answers every request with 308 to the same host and path over
    /// HTTPS (no route, policy or log: nothing is served in cleartext).
    private func runRedirect(
        _ listener: ListenerConfig, httpsPort: @escaping @Sendable () -> Int,
        report: @escaping @Sendable (Int) async -> Void
    ) async throws {
        var configuration = HTTP1Channel.Configuration()
        configuration.idleTimeout = .seconds(10)
        let channel = HTTP1Channel(
            responder: { request, writer, _ in
                // The body is not read: the answer closes the connection.
                let response = HTTPSRedirect.response(for: request.head, httpsPort: httpsPort())
                try await writer.write(response: response.head, body: response.body)
            },
            configuration: configuration)
        let logger = self.logger
        let server = channel.server(
            configuration: ServerConfiguration(address: .hostname(listener.listen.host, port: listener.listen.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("redirecting to https", metadata: ["listen.address": "\(listener.listen.host):\(port)"])
                await report(port)
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger)
        try await server.run()
    }
}

/// A listener that cannot start.
struct GatewayServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
