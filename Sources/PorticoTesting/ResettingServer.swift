import NIOCore
import NIOPosix

/// A TCP listener that accepts and at once closes every connection, for 502 tests.
package final class ResettingServer: Sendable {
    private let channel: any Channel

    /// The bound port on 127.0.0.1.
    package var port: Int { channel.localAddress?.port ?? 0 }

    package init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeSucceededVoidFuture().map { _ = child.close() }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    package func close() async throws {
        try await channel.close()
    }
}
