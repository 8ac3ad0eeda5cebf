import NIOCore
import NIOEmbedded
import Testing

@testable import PorticoGateway

/// The two handlers that shape a connection's writes: `TLSWriteCoalescer` (small writes before a
/// flush joined into one, for one TLS record) and `LoopTickFlush` (an HTTP/2 connection's flushes
/// deferred to the end of the loop's tick).
@Suite("Connection writes")
struct ConnectionWriteTests {
    /// Every buffer written through the channel so far, as text.
    static func written(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: buffer)) }
        return out
    }

    @Test("small writes before a flush leave as one buffer, in order, and every promise completes")
    func joined() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        channel.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), promise: promises[0])
        channel.write(ByteBuffer(string: "hello"), promise: nil)
        channel.write(ByteBuffer(string: " world"), promise: promises[1])
        #expect(try Self.written(channel).isEmpty)
        channel.flush()
        #expect(try Self.written(channel) == ["HTTP/1.1 200 OK\r\n\r\nhello world"])
        // A lone write passes as it is; the promise of each joined write is kept.
        channel.writeAndFlush(ByteBuffer(string: "next"), promise: promises[2])
        #expect(try Self.written(channel) == ["next"])
        var done = 0
        for promise in promises { promise.futureResult.whenSuccess { done += 1 } }
        channel.embeddedEventLoop.run()
        #expect(done == 3)
        _ = try channel.finish()
    }

    @Test("a write that would pass 16 KiB is not joined, and a large one goes by itself")
    func bounded() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        let head = String(repeating: "h", count: 100)
        let body = String(repeating: "b", count: TLSWriteCoalescer.recordSize - 50)
        channel.write(ByteBuffer(string: head), promise: nil)
        channel.write(ByteBuffer(string: body), promise: nil)
        channel.write(ByteBuffer(string: "tail"), promise: nil)
        let large = String(repeating: "L", count: TLSWriteCoalescer.recordSize)
        channel.write(ByteBuffer(string: large), promise: nil)
        channel.flush()
        #expect(try Self.written(channel).map(\.count) == [100, body.count + 4, large.count])
        _ = try channel.finish()
    }

    @Test("a close writes what is held before it passes, so the order of the two is kept")
    func closeKeepsOrder() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        var events: [String] = []
        try channel.pipeline.syncOperations.addHandler(
            EventRecorder { events.append($0) }, position: .first)
        channel.write(ByteBuffer(string: "last"), promise: nil)
        channel.write(ByteBuffer(string: " words"), promise: nil)
        #expect(events.isEmpty)
        _ = channel.close()
        #expect(events == ["write last words", "close"])
    }

    @Test("flushes in one tick become one, after the tick's events; a close flushes at once")
    func tickFlush() throws {
        let channel = EmbeddedChannel(handler: LoopTickFlush())
        var flushes = 0
        try channel.pipeline.syncOperations.addHandler(FlushCounter { flushes += 1 }, position: .first)
        channel.write(ByteBuffer(string: "one"), promise: nil)
        channel.flush()
        channel.write(ByteBuffer(string: "two"), promise: nil)
        channel.flush()
        #expect(flushes == 0)
        channel.embeddedEventLoop.run()
        #expect(flushes == 1)
        #expect(try Self.written(channel) == ["one", "two"])
        channel.write(ByteBuffer(string: "three"), promise: nil)
        channel.flush()
        _ = channel.close()
        #expect(flushes == 2)
        #expect(try Self.written(channel) == ["three"])
        channel.embeddedEventLoop.run()
        #expect(flushes == 2)
    }

    /// Records the writes and closes that reach it.
    final class EventRecorder: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        let record: (String) -> Void
        init(_ record: @escaping (String) -> Void) { self.record = record }
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            record("write " + String(buffer: unwrapOutboundIn(data)))
            context.write(data, promise: promise)
        }
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            record("close")
            context.close(mode: mode, promise: promise)
        }
    }

    /// Counts the flushes that reach it.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        let counted: () -> Void
        init(_ counted: @escaping () -> Void) { self.counted = counted }
        func flush(context: ChannelHandlerContext) {
            counted()
            context.flush()
        }
    }
}
