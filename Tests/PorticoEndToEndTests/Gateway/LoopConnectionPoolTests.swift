import HTTPTypes
import NIOCore
import NIOPosix
import PorticoConfig
import Testing

@testable import PorticoGateway

/// One event loop's pool against a real upstream: what happens to connections nobody used.
@Suite("Event-loop connection pools")
struct LoopConnectionPoolTests {
    static func acquire(_ pool: LoopConnectionPool, _ target: UpstreamTarget) async throws -> UpstreamConnection {
        try await withCheckedThrowingContinuation { continuation in
            pool.eventLoop.execute {
                pool.acquire(target) { result in continuation.resume(with: result) }
            }
        }
    }

    @Test(
        "a connection handed over and never used goes back to the pool; a target left without connections is forgotten")
    func abandonedUnused() async throws {
        try await withUpstream { port in
            let upstream = UpstreamConfig(name: "svc", targets: [TargetConfig(url: "http://127.0.0.1:\(port)")!])
            let target = UpstreamTarget(config: upstream.targets[0], upstream: upstream)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            // One connection at most: a lost one would leave the next request waiting out the connect timeout.
            let pool = LoopConnectionPool(eventLoop: loop, limit: 1, config: upstream)
            let first = try await Self.acquire(pool, target)
            // As when the client of the request it was for went away while it was being connected.
            try await loop.submit { first.abandon() }.get()
            let second = try await Self.acquire(pool, target)
            #expect(second === first)
            #expect(try await loop.submit { pool.targetCount }.get() == 1)

            try await loop.submit { second.close() }.get()
            var forgotten = false
            for _ in 0..<200 where !forgotten {
                forgotten = try await loop.submit { pool.targetCount == 0 }.get()
                if !forgotten { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(forgotten)
            try await loop.submit { pool.shutdown() }.get()
        }
    }

    /// Collects one response on the connection's event loop.
    final class Collector: UpstreamResponseSink, @unchecked Sendable {
        var status = 0
        var body = ""
        var ended = false
        var failure: UpstreamFailure?
        func upstreamHead(_ head: HTTPResponse) { status = head.status.code }
        func upstreamBody(_ buffer: ByteBuffer) { body += String(buffer: buffer) }
        func upstreamReadComplete() {}
        func upstreamEnd(trailers: HTTPFields?) { ended = true }
        func upstreamFailed(_ failure: UpstreamFailure) { self.failure = failure }
    }

    /// A target that answers every request, then sends the start of an unasked-for response.
    final class StrayTarget: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var seen = ""
        var answered = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            seen += String(buffer: unwrapInboundIn(data))
            while let end = seen.range(of: "\r\n\r\n") {
                seen.removeSubrange(..<end.upperBound)
                answered += 1
                let answer = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nreal-\(answered)"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
                // Half a head: parsed as it came, it would spoil the next answer.
                let stray = "HTTP/1.1 200 OK\r\nContent-Len"
                context.eventLoop.scheduleTask(in: .milliseconds(50)) {
                    context.writeAndFlush(NIOAny(ByteBuffer(string: stray)), promise: nil)
                }
            }
        }
    }

    /// A pool of one connection on one loop, to a raw target served by `handler`s.
    struct RawTarget {
        let server: any Channel
        let loop: any EventLoop
        let pool: LoopConnectionPool
        let target: UpstreamTarget

        init(_ handler: @escaping @Sendable () -> any ChannelHandler) async throws {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler()) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            let upstream = UpstreamConfig(name: "svc", targets: [TargetConfig(url: "http://127.0.0.1:\(port)")!])
            target = UpstreamTarget(config: upstream.targets[0], upstream: upstream)
            loop = MultiThreadedEventLoopGroup.singleton.next()
            pool = LoopConnectionPool(eventLoop: loop, limit: 1, config: upstream)
        }

        /// One GET through a connection of the pool, waited for until it ends or fails.
        func ask() async throws -> (UpstreamConnection, Collector) {
            let connection = try await LoopConnectionPoolTests.acquire(pool, target)
            let collector = Collector()
            try await loop.submit {
                connection.send(
                    HTTPRequest(method: .get, scheme: "http", authority: "a", path: "/"), body: nil,
                    timeout: .seconds(5), to: collector)
            }.get()
            for _ in 0..<300 where try await !loop.submit({ collector.ended || collector.failure != nil }).get() {
                try await Task.sleep(for: .milliseconds(10))
            }
            return (connection, collector)
        }

        func close() async throws {
            try await loop.submit { pool.shutdown() }.get()
            try await server.close()
        }
    }

    @Test("bytes a target sends while no request is out close the connection: they never answer the next request")
    func strayBytes() async throws {
        let raw = try await RawTarget { StrayTarget() }
        let (first, one) = try await raw.ask()
        #expect(try await raw.loop.submit { (one.status, one.body) }.get() == (200, "real-1"))
        // The stray answer arrives while the connection is idle in the pool.
        try await Task.sleep(for: .milliseconds(300))
        let (second, two) = try await raw.ask()
        #expect(second !== first)
        #expect(try await raw.loop.submit { (two.status, two.body) }.get() == (200, "real-1"))
        try await raw.close()
    }

    /// A target that answers every request with `101 Switching Protocols`.
    final class SwitchingTarget: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nraw bytes"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }

    @Test("a 101 to a request that asked for no upgrade fails the try as malformed")
    func unaskedSwitch() async throws {
        let raw = try await RawTarget { SwitchingTarget() }
        let (_, answer) = try await raw.ask()
        #expect(try await raw.loop.submit { (answer.failure, answer.status) }.get() == (.malformed, 0))
        try await raw.close()
    }
}
