import NIOCore

/// Joins the small writes before one flush into one buffer, just behind the TLS handler, so that
/// they leave as one TLS record instead of one record each.
///
/// NIOSSL encrypts each write it is given as a record of its own. An HTTP/1.1 response is a head
/// and a body, and an HTTP/2 response three writes (the HEADERS frame, the DATA frame's header
/// and its payload): two or three records, each with its own encryption pass, tag and header,
/// where nginx sends one. Writes are joined up to 16 KiB (a record's plaintext limit); a larger
/// one, or one that would pass the limit, goes on by itself. The first write is held as it is
/// and copied only when a second joins it, so a lone write costs no copy. Whatever is held is
/// written on before a flush or a close passes, so their order is kept.
final class TLSWriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most plaintext one TLS record carries.
    static let recordSize = 16384

    private var held: ByteBuffer?
    /// Whether `held` is this handler's own buffer, which later writes are appended to.
    private var joined = false
    private var heldPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        guard var first = held else {
            return hold(buffer, data: data, promise: promise, context: context)
        }
        guard first.readableBytes + buffer.readableBytes <= Self.recordSize else {
            writeHeld(context: context)
            return hold(buffer, data: data, promise: promise, context: context)
        }
        held = nil
        if !joined {
            var own = context.channel.allocator.buffer(capacity: first.readableBytes + buffer.readableBytes)
            own.writeBuffer(&first)
            first = own
            joined = true
        }
        first.writeBuffer(&buffer)
        held = first
        if let promise {
            if let heldPromise { heldPromise.futureResult.cascade(to: promise) } else { heldPromise = promise }
        }
    }

    func flush(context: ChannelHandlerContext) {
        writeHeld(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writeHeld(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        held = nil
        heldPromise?.fail(ChannelError.ioOnClosedChannel)
        heldPromise = nil
    }

    /// Holds a write that may be joined by the next, or passes on one too large to join.
    private func hold(
        _ buffer: ByteBuffer, data: NIOAny, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext
    ) {
        guard buffer.readableBytes < Self.recordSize else { return context.write(data, promise: promise) }
        held = buffer
        joined = false
        heldPromise = promise
    }

    private func writeHeld(context: ChannelHandlerContext) {
        guard let buffer = held else { return }
        let promise = heldPromise
        held = nil
        heldPromise = nil
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
