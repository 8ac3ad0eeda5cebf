import NIOCore
import NIOHTTP2

/// Last in an upstream HTTP/2 connection's pipeline, where the connection's own frames arrive:
/// tells its `H2TargetConnection` when the target sends `GOAWAY`, so that no new stream is
/// opened on a connection that is going away. (Errors pass on: NIOHTTP2 closes the connection
/// itself on a connection error, and a stream's error is that stream's.)
final class H2GoAwayWatch: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame

    private let onGoAway: () -> Void

    init(onGoAway: @escaping () -> Void) {
        self.onGoAway = onGoAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload { onGoAway() }
    }
}
