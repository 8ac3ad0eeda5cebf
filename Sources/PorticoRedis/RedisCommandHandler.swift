import NIOCore

/// The last handler of a Redis connection: writes commands, and answers each one's promise with
/// the next reply, in order (Redis answers a pipeline in the order it was sent). Push messages
/// go to `onPush` instead. When the connection closes, every waiting command fails.
final class RedisCommandHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = RESPValue
    typealias OutboundIn = (RESPCommand, EventLoopPromise<RESPValue>)
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var closed = false
    /// Called on the event loop with each push message.
    var onPush: (@Sendable ([RESPValue]) -> Void)?

    /// How many commands wait for their reply (on the event loop only).
    var pending: Int { waiting.count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (command, reply) = unwrapOutboundIn(data)
        guard !closed else {
            reply.fail(RedisError.connectionClosed)
            promise?.fail(RedisError.connectionClosed)
            return
        }
        waiting.append(reply)
        context.write(wrapOutboundOut(command.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if case .push(let elements) = value {
            onPush?(elements)
            return
        }
        guard let reply = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step, so nothing after it can be trusted.
            context.fireErrorCaught(RedisError.protocolViolation("a reply with no command waiting"))
            context.close(promise: nil)
            return
        }
        reply.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        closed = true
        while let reply = waiting.popFirst() { reply.fail(error) }
    }
}
