import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A small pool of pipelined connections to one Redis server: `connectionsPerLoop` on each
/// event loop, opened at `start()` and reopened with back-off when they fail or close.
///
/// A command goes to the next connection that is up. When none is, it fails at once with
/// `RedisError.unavailable` (the reason is the last failure): a caller such as the rate limiter
/// then decides by its own rule instead of waiting for a server that is gone.
package final class RedisClient: Sendable {
    package struct Configuration: Sendable {
        package var url: RedisURL
        package var connectionsPerLoop = 1
        package var connectTimeout = TimeAmount.seconds(1)
        /// How long a command waits for its reply.
        package var commandTimeout = TimeAmount.milliseconds(250)
        /// For `rediss://` URLs; nil means the system's trust roots.
        package var tls: TLSConfiguration?
        package var minimumReconnectDelay = Duration.milliseconds(100)
        package var maximumReconnectDelay = Duration.seconds(5)

        package init(url: RedisURL) {
            self.url = url
        }
    }

    /// What `/admin/status` shows.
    package struct Status: Sendable, Hashable {
        /// Connections up, of `total`.
        package var connected: Int
        package var total: Int
        /// Why the last connection failed or closed, while not all are up.
        package var lastError: String?
        /// 3 or 2, as the server agreed; nil while none is up.
        package var protocolVersion: Int?
    }

    private final class Slot: Sendable {
        let eventLoop: any EventLoop
        struct State {
            var machine: ReconnectState
            var connection: RedisConnection?
            var timer: Scheduled<Void>?
        }
        let state: Mutex<State>

        init(eventLoop: any EventLoop, machine: ReconnectState) {
            self.eventLoop = eventLoop
            self.state = Mutex(State(machine: machine))
        }
    }

    package let configuration: Configuration
    private let slots: [Slot]
    private let sslContext: NIOSSLContext?
    private let next = Atomic<Int>(0)
    private let lastError = Mutex<String?>(nil)
    private let logger: Logger
    /// Push messages from every connection (RESP3 pub/sub), on the connection's event loop.
    private let onPush: (@Sendable ([RESPValue]) -> Void)?

    package init(
        configuration: Configuration, eventLoopGroup: any EventLoopGroup, logger: Logger,
        onPush: (@Sendable ([RESPValue]) -> Void)? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.onPush = onPush
        if configuration.url.tls {
            sslContext = try NIOSSLContext(configuration: configuration.tls ?? .makeClientConfiguration())
        } else {
            sslContext = nil
        }
        var slots: [Slot] = []
        for loop in eventLoopGroup.makeIterator() {
            for _ in 0..<max(1, configuration.connectionsPerLoop) {
                let machine = ReconnectState(
                    minimumDelay: configuration.minimumReconnectDelay, maximumDelay: configuration.maximumReconnectDelay
                )
                slots.append(Slot(eventLoop: loop, machine: machine))
            }
        }
        self.slots = slots
    }

    /// Opens every connection; returns at once (the connections come up in the background).
    package func start() {
        for slot in slots {
            let action = slot.state.withLock { $0.machine.start() }
            perform(action, slot: slot)
        }
    }

    /// Closes every connection and stops reconnecting.
    package func shutdown() {
        for slot in slots {
            let (connection, timer) = slot.state.withLock { state in
                state.machine.shutDown()
                defer {
                    state.connection = nil
                    state.timer = nil
                }
                return (state.connection, state.timer)
            }
            timer?.cancel()
            connection?.close()
        }
    }

    package var status: Status {
        var connected = 0
        var version: Int?
        for slot in slots {
            slot.state.withLock { state in
                if let connection = state.connection, connection.isActive {
                    connected += 1
                    version = connection.protocolVersion
                }
            }
        }
        return Status(
            connected: connected, total: slots.count,
            lastError: connected == slots.count ? nil : lastError.withLock { $0 }, protocolVersion: version)
    }

    private func perform(_ action: ReconnectState.Action, slot: Slot) {
        switch action {
        case .none:
            return
        case .connectAfter(let delay):
            let timer = slot.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                let action = slot.state.withLock { $0.machine.retry() }
                self.perform(action, slot: slot)
            }
            slot.state.withLock { $0.timer = timer }
        case .connect:
            connect(slot)
        }
    }

    private func connect(_ slot: Slot) {
        let url = configuration.url
        RedisConnection.connect(
            to: url, on: slot.eventLoop, connectTimeout: configuration.connectTimeout,
            commandTimeout: configuration.commandTimeout * 4,
            tls: sslContext, onPush: onPush
        ).whenComplete { result in
            switch result {
            case .success(let connection):
                let kept = slot.state.withLock { state -> Bool in
                    guard state.machine.state != .shutDown else { return false }
                    state.machine.connected()
                    state.connection = connection
                    return true
                }
                guard kept else { return connection.close() }
                self.logger.debug(
                    "redis connected",
                    metadata: ["redis.url": "\(url)", "redis.protocol": "\(connection.protocolVersion)"])
                connection.closeFuture.whenComplete { _ in
                    self.lostConnection(slot, reason: "the connection closed")
                }
            case .failure(let error):
                self.lostConnection(slot, reason: "\(error)")
            }
        }
    }

    private func lostConnection(_ slot: Slot, reason: String) {
        lastError.withLock { $0 = reason }
        let action = slot.state.withLock { state in
            state.connection = nil
            return state.machine.lost(now: .now)
        }
        if case .connectAfter(let delay) = action {
            logger.debug(
                "redis connection lost",
                metadata: [
                    "redis.url": "\(configuration.url)", "error": "\(reason)",
                    "redis.retry_ms": "\(delay.milliseconds)",
                ])
        }
        perform(action, slot: slot)
    }

    /// The connection of the caller's event loop when it is up (its answer then needs no hop
    /// between threads), else the next connection that is up, round robin from the one after
    /// the last used.
    private func connection() -> RedisConnection? {
        for slot in slots where slot.eventLoop.inEventLoop {
            if let connection = slot.state.withLock({ $0.connection }), connection.isActive { return connection }
        }
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<slots.count {
            let slot = slots[(start &+ offset) % slots.count]
            if let connection = slot.state.withLock({ $0.connection }), connection.isActive { return connection }
        }
        return nil
    }

    /// Sends a command on a connection that is up; see `RedisConnection.send`.
    package func send(_ command: RESPCommand) -> EventLoopFuture<RESPValue> {
        guard let connection = connection() else {
            let loop = slots[0].eventLoop
            return loop.makeFailedFuture(RedisError.unavailable(lastError.withLock { $0 } ?? "not connected yet"))
        }
        return connection.send(command, timeout: configuration.commandTimeout)
    }

    package func send(_ arguments: [String]) async throws -> RESPValue {
        try await send(RESPCommand(arguments)).get()
    }

    /// Runs `script` with `EVALSHA`, loading it with `EVAL` when the server answers `NOSCRIPT`.
    package func run(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        let tail = [Array(String(keys.count).utf8)] + keys + arguments
        return send(RESPCommand([Array("EVALSHA".utf8), Array(script.sha1.utf8)] + tail)).flatMapError { error in
            guard let message = (error as? RedisError)?.serverMessage, message.hasPrefix("NOSCRIPT") else {
                return self.slots[0].eventLoop.makeFailedFuture(error)
            }
            return self.send(RESPCommand([Array("EVAL".utf8), Array(script.source.utf8)] + tail))
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
