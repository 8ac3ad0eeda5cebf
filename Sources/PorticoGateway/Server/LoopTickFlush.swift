import NIOCore

/// Defers a connection's flush to the end of the event loop's current tick, so that the
/// responses of several HTTP/2 streams finished in one tick leave in one socket write.
///
/// A stream's response is flushed when its upstream's last part is read, from the upstream
/// connection's read, not the client's; NIOHTTP2 joins flushes only within the client
/// connection's own read. Without this, every response costs its own `write` (and, over TLS, its
/// own records); with it, the responses whose upstream reads one wake-up of the loop delivers
/// go together. The flush runs as the loop's next task, after the I/O events of this tick, so
/// the delay is that of the events around it. A close flushes first, so nothing is left behind.
final class LoopTickFlush: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = NIOAny

    private var scheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !scheduled else { return }
        scheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushNow(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        scheduled = false
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard scheduled else { return }
        scheduled = false
        context.flush()
    }
}
