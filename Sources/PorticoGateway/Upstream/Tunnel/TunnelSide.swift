import NIOCore

/// One channel's end of a `Tunnel`: what it reads is written to the other side's channel, and it
/// reads only while that channel is writable. It takes the place of the HTTP handlers after the
/// 101: on the client's channel right after the connection guard (the HTTP handler behind it sees
/// nothing more), on the target's as its last handler.
final class TunnelSide: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var tunnel: Tunnel?
    private var context: ChannelHandlerContext?
    /// Bytes read before the tunnel started.
    private var pending: [ByteBuffer] = []
    private var pendingBytes = 0
    private var started = false
    /// A read waits until the other side is writable again.
    private var readHeld = false

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received(unwrapInboundIn(data))
    }

    /// Bytes from this side's channel, read here or handed over by the HTTP handler it replaced.
    func received(_ bytes: ByteBuffer) {
        guard let tunnel else { return }
        tunnel.moved(bytes.readableBytes, from: self)
        if started {
            tunnel.partner(of: self).write(bytes)
            return
        }
        pending.append(bytes)
        pendingBytes += bytes.readableBytes
        if pendingBytes > Tunnel.pendingLimit { tunnel.end() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard started, let partner = tunnel.map({ $0.partner(of: self) }) else { return }
        partner.flush()
        // The channel may not read on its own (the client's is driven by its async channel,
        // which sees nothing of the tunnel): ask for the next bytes when they can be passed on.
        if partner.isWritable { context.read() } else { readHeld = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let tunnel { tunnel.partner(of: self).resume() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tunnel?.end()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tunnel?.end()
    }

    func read(context: ChannelHandlerContext) {
        if started, let tunnel, !tunnel.partner(of: self).isWritable {
            readHeld = true
            return
        }
        context.read()
    }

    // MARK: What the tunnel and the other side ask

    func start() {
        started = true
        if let tunnel, !pending.isEmpty {
            let partner = tunnel.partner(of: self)
            for bytes in pending { partner.write(bytes) }
            partner.flush()
        }
        pending = []
        pendingBytes = 0
        context?.read()
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flush() { context?.flush() }

    /// The other side can take more: a held read goes on.
    func resume() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    func close() { context?.close(promise: nil) }
}
