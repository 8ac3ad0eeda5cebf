import HummingbirdCore
import Logging
import NIOCore

/// HummingbirdCore's HTTP/1.1 child channel with a `ConnectionGuard` around each connection:
/// the budget's check first in the pipeline, before the HTTP decoder, and the pace's view of
/// requests after it.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let budget: ConnectionBudget
    let server: ServerSettings
    let logger: Logger
    /// Makes the connection's `EventLoopPath`; nil serves every request on the streaming path.
    let eventLoopPath: (@Sendable () -> EventLoopPath)?

    /// What the guard needs of `server`, in NIO's units.
    struct ServerSettings: Sendable {
        var headerTimeout: TimeAmount
        var minimumBodyRate: Int
        var bodyGrace: TimeAmount
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let pace = ConnectionPace(
            headerTimeout: server.headerTimeout, minimumBodyRate: server.minimumBodyRate, bodyGrace: server.bodyGrace)
        let owner = ConnectionGuard(budget: budget, pace: pace, logger: self.logger)
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard.RawSide(owner))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        var configuration = base.configuration
        let extra = configuration.additionalChannelHandlers
        let eventLoopPath = self.eventLoopPath
        configuration.additionalChannelHandlers = {
            var handlers: [any RemovableChannelHandler] = [ConnectionGuard.MessageSide(owner)]
            if let eventLoopPath { handlers.append(eventLoopPath()) }
            return handlers + extra()
        }
        return HTTP1Channel(responder: base.responder, configuration: configuration).setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
