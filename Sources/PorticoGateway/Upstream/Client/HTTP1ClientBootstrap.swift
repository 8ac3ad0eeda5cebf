import NIOCore
import NIOHTTP1
import NIOPosix
import PorticoConfig

/// How the event-loop path connects to a target, for its pools and for upgrade handshakes alike:
/// on the given event loop, with `TCP_NODELAY`, then `handler`: alone for the pools' connections,
/// which write and parse HTTP/1.1 themselves, after NIO's HTTP/1.1 client codec for upgrades.
enum HTTP1ClientBootstrap {
    /// - Parameter codec: add NIO's client codec, and what its response decoder does with bytes it
    ///   holds when it is taken out (only an upgrade takes it out); nil for none.
    static func connect(
        to target: TargetConfig, on eventLoop: any EventLoop, connectTimeout: TimeAmount,
        codec leftOverBytes: RemoveAfterUpgradeStrategy?,
        handler: some ChannelHandler & Sendable
    ) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let leftOverBytes {
                        // HTTPTypes validated every field already: no second validation per request.
                        try channel.pipeline.syncOperations.addHTTPClientHandlers(
                            leftOverBytesStrategy: leftOverBytes, enableOutboundHeaderValidation: false)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: target.host, port: target.port)
    }

    /// What a failed connect counts as for the try.
    static func failure(_ error: any Error) -> UpstreamFailure {
        if case ChannelError.connectTimeout = error { return .connectTimeout }
        return .connectFailure
    }
}
