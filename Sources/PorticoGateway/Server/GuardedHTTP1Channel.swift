import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// HummingbirdCore's HTTP/1.1 child channel with a `ConnectionGuard` around each connection (the
/// budget's check first in the pipeline, before the HTTP decoder) and an `EventLoopPath` after
/// the decoder. Hummingbird's responder serves what the event-loop path passes on.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let budget: ConnectionBudget
    let server: ServerSettings
    let logger: Logger
    /// Makes the connection's `EventLoopPath`, given its guard and its request parser.
    let eventLoopPath: @Sendable (ConnectionGuard, HTTP1RequestParser) -> EventLoopPath
    /// The listener's TLS context; nil for cleartext. TLS is first in the pipeline, so everything
    /// after it, the guard included, sees plaintext.
    var tls: NIOSSLContext?

    /// What the guard needs of `server`, in NIO's units.
    struct ServerSettings: Sendable {
        var headerTimeout: TimeAmount
        var minimumBodyRate: Int
        var bodyGrace: TimeAmount
    }

    /// The pipeline, first to last: the guard's raw side (bytes in; encoded responses out),
    /// `EventLoopPath` (which parses requests straight into HTTPTypes, serves what it can and
    /// encodes every response), then Hummingbird's connection state and async channel for the
    /// streaming path. (Hummingbird's `HTTP1Channel` would add NIO's request decoder and
    /// response encoder and two HTTPTypes conversions: four more handlers each part passes.)
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let owner = try addConnectionHandlers(to: channel)
            return try addHTTPHandlers(to: channel, guard: owner, logger: logger)
        }
    }

    /// The handlers every connection has, whatever it speaks: TLS and its write coalescer (on a
    /// TLS listener) and the guard's raw side. Returns the connection's guard.
    func addConnectionHandlers(to channel: any Channel) throws -> ConnectionGuard {
        let pace = ConnectionPace(
            headerTimeout: server.headerTimeout, minimumBodyRate: server.minimumBodyRate, bodyGrace: server.bodyGrace)
        let owner = ConnectionGuard(budget: budget, pace: pace, logger: self.logger)
        let pipeline = channel.pipeline.syncOperations
        if let tls { try pipeline.addHandlers(NIOSSLServerHandler(context: tls), TLSWriteCoalescer()) }
        try pipeline.addHandler(ConnectionGuard.RawSide(owner))
        return owner
    }

    /// The HTTP/1.1 handlers after the connection's, and the async channel Hummingbird serves.
    func addHTTPHandlers(to channel: any Channel, guard owner: ConnectionGuard, logger: Logger) throws -> Value {
        let configuration = base.configuration
        let limits = HTTP1FieldLines.Limits(
            fieldSize: configuration.httpDecoder.maxHeaderFieldSize,
            listSize: configuration.httpDecoder.maxHeaderListSize,
            fieldCount: configuration.httpDecoder.maxHeaderFieldCount)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(eventLoopPath(owner, HTTP1RequestParser(secure: tls != nil, limits: limits)))
        try pipeline.addHandlers(configuration.additionalChannelHandlers())
        try pipeline.addHandler(
            HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
