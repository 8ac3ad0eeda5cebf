import NIOCore
import NIOPosix
import NIOSSL

/// One connection to a Redis server, signed in and on its database, that pipelines commands:
/// any number may be in flight, and each reply answers the oldest command still waiting.
///
/// Sign-in asks for RESP3 with `HELLO 3` (and `AUTH` in it); a server that does not know
/// `HELLO` (Redis before 6) gets RESP2 and a plain `AUTH`. Safe to use from any thread.
package final class RedisConnection: Sendable {
    package let channel: any Channel
    /// 3 or 2: the protocol the server agreed to.
    package let protocolVersion: Int

    init(channel: any Channel, protocolVersion: Int) {
        self.channel = channel
        self.protocolVersion = protocolVersion
    }

    /// Connects on `eventLoop` and signs in; the future fails with the reason if either fails.
    package static func connect(
        to url: RedisURL, on eventLoop: any EventLoop, connectTimeout: TimeAmount, commandTimeout: TimeAmount,
        tls: NIOSSLContext?, onPush: (@Sendable ([RESPValue]) -> Void)? = nil
    ) -> EventLoopFuture<RedisConnection> {
        let serverName = url.host.contains(":") || url.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : url.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(RESPDecoder()))
                    let handler = RedisCommandHandler()
                    handler.onPush = onPush
                    try pipeline.addHandler(handler)
                }
            }
        return bootstrap.connect(host: url.host, port: url.port).flatMap { channel in
            signIn(channel: channel, url: url, timeout: commandTimeout).flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    private static func signIn(
        channel: any Channel, url: RedisURL, timeout: TimeAmount
    ) -> EventLoopFuture<RedisConnection> {
        var hello = ["HELLO", "3"]
        if let password = url.password { hello += ["AUTH", url.user ?? "default", password] }
        hello += ["SETNAME", "portico"]
        return send(RESPCommand(hello), on: channel, timeout: timeout)
            .map { _ in 3 }
            .flatMapError { error -> EventLoopFuture<Int> in
                guard let message = (error as? RedisError)?.serverMessage else {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                guard message.hasPrefix("NOPROTO") || message.hasPrefix("ERR unknown command") else {
                    return channel.eventLoop.makeFailedFuture(RedisError.handshake(message))
                }
                // RESP2: sign in with AUTH, if there is a password.
                guard let password = url.password else { return channel.eventLoop.makeSucceededFuture(2) }
                let auth = url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                return send(RESPCommand(auth), on: channel, timeout: timeout).map { _ in 2 }
                    .flatMapErrorThrowing { error in
                        throw (error as? RedisError)?.serverMessage.map(RedisError.handshake) ?? error
                    }
            }
            .flatMap { version -> EventLoopFuture<Int> in
                guard url.database != 0 else { return channel.eventLoop.makeSucceededFuture(version) }
                return send(RESPCommand(["SELECT", String(url.database)]), on: channel, timeout: timeout).map { _ in
                    version
                }
                .flatMapErrorThrowing { error in
                    throw (error as? RedisError)?.serverMessage.map(RedisError.handshake) ?? error
                }
            }
            .map { RedisConnection(channel: channel, protocolVersion: $0) }
    }

    /// Sends `command`; the future has its reply, or fails with the server's error reply, a
    /// closed connection, or `RedisError.timeout` after `timeout`.
    package func send(_ command: RESPCommand, timeout: TimeAmount?) -> EventLoopFuture<RESPValue> {
        Self.send(command, on: channel, timeout: timeout)
    }

    static func send(
        _ command: RESPCommand, on channel: any Channel, timeout: TimeAmount?
    ) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush((command, promise), promise: nil)
        if let timeout {
            // A late reply still answers the command's place in the pipeline; its promise is already failed.
            let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(RedisError.timeout) }
            promise.futureResult.whenComplete { _ in timer.cancel() }
        }
        return promise.futureResult.flatMapThrowing { value in
            if case .error(let message) = value { throw RedisError.server(message) }
            return value
        }
    }

    package var isActive: Bool { channel.isActive }
    package var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    package func close() {
        channel.close(promise: nil)
    }
}
