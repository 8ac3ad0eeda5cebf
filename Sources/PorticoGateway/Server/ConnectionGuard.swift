import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// One client connection's guard: its place in the `ConnectionBudget` and its `ConnectionPace`.
///
/// `RawSide`, first in the pipeline, sees bytes (so it knows when a head starts and when the
/// connection opens and closes) and lends its context to `EventLoopPath`, which writes the
/// encoded responses there; `EventLoopPath` reports heads, bodies and ends. All of it runs on
/// the channel's event loop, as does the once-a-second check, so the shared state needs no lock.
final class ConnectionGuard: @unchecked Sendable {
    let budget: ConnectionBudget
    let logger: Logger
    private var pace: ConnectionPace
    private var address: String?
    private var admitted = false
    private var check: RepeatedTask?
    /// `RawSide`'s context, where encoded response bytes are written.
    private(set) var rawContext: ChannelHandlerContext?

    init(budget: ConnectionBudget, pace: ConnectionPace, logger: Logger) {
        self.budget = budget
        self.pace = pace
        self.logger = logger
    }

    static let refusal: String = {
        let body =
            #"{"type":"https://portico.dev/problems/too-many-connections","title":"Service Unavailable","status":503,"detail":"The gateway has no room for another connection from here; try again shortly."}"#
        return
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: \(body.utf8.count)\r\n\r\n"
            + body
    }()

    /// Sees the connection's bytes: admits or refuses it, and starts a head's clock.
    final class RawSide: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let owner: ConnectionGuard

        init(_ owner: ConnectionGuard) { self.owner = owner }

        func handlerAdded(context: ChannelHandlerContext) { owner.rawContext = context }

        func handlerRemoved(context: ChannelHandlerContext) { owner.rawContext = nil }

        func channelActive(context: ChannelHandlerContext) {
            let address = context.channel.remoteAddress?.ipAddress
            guard owner.budget.admit(address) else {
                owner.logger.debug(
                    "connection refused: budget reached", metadata: ["client.address": "\(address ?? "?")"])
                let refusal = context.channel.allocator.buffer(string: ConnectionGuard.refusal)
                context.writeAndFlush(NIOAny(refusal)).whenComplete { _ in context.close(promise: nil) }
                // On a TLS listener the write waits for a handshake the client may never make.
                let channel = context.channel
                context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
                return
            }
            owner.address = address
            owner.admitted = true
            let owner = self.owner
            let channel = context.channel
            owner.check = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                if case .close(let reason) = owner.pace.check(now: .now()) {
                    owner.logger.debug(
                        "connection closed",
                        metadata: ["client.address": "\(owner.address ?? "?")", "reason": "\(reason)"])
                    channel.close(promise: nil)
                }
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // A refused connection's bytes go nowhere: it is closing.
            guard owner.admitted else { return }
            owner.pace.bytesArrived(now: .now())
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            owner.check?.cancel()
            owner.check = nil
            if owner.admitted {
                owner.admitted = false
                owner.budget.release(owner.address)
            }
            context.fireChannelInactive()
        }
    }

    // MARK: What the HTTP layer reports (`EventLoopPath`, which sees every request and response)

    func headReceived(hasBody: Bool) { pace.headReceived(now: .now(), hasBody: hasBody) }
    func bodyArrived(_ count: Int) { pace.bodyArrived(count) }
    func requestEnded() { pace.requestEnded() }
    func responseEnded() { pace.responseEnded(now: .now()) }
    /// The connection turned out to be HTTP/2 (by ALPN or its preface), or was upgraded.
    func stopPacing() { pace.stopPacing() }
}
