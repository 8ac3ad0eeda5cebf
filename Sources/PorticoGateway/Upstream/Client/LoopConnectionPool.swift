import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PorticoConfig

/// One event loop's kept-alive connections to the targets of one upstream (nginx's per-worker
/// upstream cache, Envoy's per-worker pools).
///
/// Touched only on its event loop, so it needs no lock; a request takes a connection from the
/// pool of the loop its client connection lives on, and the upstream channel is registered on
/// that same loop, so the whole exchange runs on one thread.
final class LoopConnectionPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// The most connections this loop opens to one target.
    let limit: Int
    let connectTimeout: TimeAmount
    let bodyIdleTimeout: TimeAmount
    private var targets: [ObjectIdentifier: TargetConnections] = [:]
    /// For an upstream with `protocol: h2`: the one HTTP/2 connection per target that takes new streams.
    private var multiplexed: [ObjectIdentifier: H2TargetConnection] = [:]
    private var closed = false

    private struct Waiter {
        var id: Int
        var timer: Scheduled<Void>?
        var completion: (Result<UpstreamConnection, UpstreamFailure>) -> Void
    }

    /// A class, so that taking and returning a connection edits it in place rather than copying
    /// its arrays in and out of the dictionary.
    private final class TargetConnections {
        let target: UpstreamTarget
        var idle: [UpstreamConnection] = []
        var open = 0
        var waiters = CircularBuffer<Waiter>()

        init(target: UpstreamTarget) {
            self.target = target
        }
    }

    private var nextWaiter = 0

    /// The TLS context of `https://` targets spoken to in HTTP/2, and the name they are verified by.
    let h2TLS: NIOSSLContext?
    let serverName: String?

    init(eventLoop: any EventLoop, limit: Int, config: UpstreamConfig, h2TLS: NIOSSLContext? = nil) {
        self.eventLoop = eventLoop
        self.h2TLS = h2TLS
        self.serverName = config.tls?.serverName
        self.limit = max(1, limit)
        self.connectTimeout = .milliseconds(config.connectTimeout.milliseconds)
        self.bodyIdleTimeout = .milliseconds(config.idleTimeout.milliseconds)
    }

    /// Hands `completion` a connection to `target`: an idle one, a new one, or the next one freed
    /// if the limit is reached (failing with `poolExhausted` after the connect timeout).
    func acquire(_ target: UpstreamTarget, completion: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void)
    {
        eventLoop.assertInEventLoop()
        guard !closed else { return completion(.failure(.connectFailure)) }
        let key = ObjectIdentifier(target)
        let entry: TargetConnections
        if let existing = targets[key] {
            entry = existing
        } else {
            entry = TargetConnections(target: target)
            targets[key] = entry
        }
        while let connection = entry.idle.popLast() {
            if connection.isUsable { return completion(.success(connection)) }
        }
        if entry.open < limit {
            entry.open += 1
            connect(target, key: key, completion: completion)
            return
        }
        let id = nextWaiter
        nextWaiter &+= 1
        let timer = eventLoop.scheduleTask(in: connectTimeout) { [weak self] in
            guard let self else { return }
            self.expire(waiter: id, key: key)
        }
        entry.waiters.append(Waiter(id: id, timer: timer, completion: completion))
    }

    /// Hands `completion` a new stream to `target` on this loop's HTTP/2 connection to it,
    /// opening that connection first if there is none that takes streams.
    func acquireStream(
        _ target: UpstreamTarget, completion: @escaping (Result<H2UpstreamStream, UpstreamFailure>) -> Void
    ) {
        eventLoop.assertInEventLoop()
        guard !closed else { return completion(.failure(.connectFailure)) }
        let key = ObjectIdentifier(target)
        if let connection = multiplexed[key], connection.isUsable {
            return connection.openStream(bodyIdleTimeout: bodyIdleTimeout, completion: completion)
        }
        let connection = H2TargetConnection(
            target: target.config, eventLoop: eventLoop, connectTimeout: connectTimeout, idleTimeout: bodyIdleTimeout,
            tls: h2TLS,
            serverName: serverName)
        connection.onRetired = { [weak self] retired in
            if self?.multiplexed[key] === retired { self?.multiplexed[key] = nil }
        }
        multiplexed[key] = connection
        connection.connect()
        connection.openStream(bodyIdleTimeout: bodyIdleTimeout, completion: completion)
    }

    /// Closes every idle connection; later requests fail. In-use connections close when done.
    func shutdown() {
        eventLoop.assertInEventLoop()
        closed = true
        for connection in multiplexed.values { connection.close() }
        multiplexed.removeAll()
        for entry in targets.values {
            for connection in entry.idle { connection.close() }
            entry.idle.removeAll()
            while let waiter = entry.waiters.popFirst() {
                waiter.timer?.cancel()
                waiter.completion(.failure(.connectFailure))
            }
        }
    }

    // MARK: Internals

    private func connect(
        _ target: UpstreamTarget, key: ObjectIdentifier,
        completion: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void
    ) {
        let connection = UpstreamConnection(eventLoop: eventLoop, bodyIdleTimeout: bodyIdleTimeout)
        connection.onClose = { [weak self] connection in self?.closed(connection, key: key) }
        connection.onReusable = { [weak self] connection in self?.release(connection, key: key) }
        HTTP1ClientBootstrap.connect(
            to: target.config, on: eventLoop, connectTimeout: connectTimeout, codec: nil, handler: connection
        ).assumeIsolated().whenComplete { [weak self] result in
            switch result {
            case .success:
                completion(.success(connection))
            case .failure(let error):
                connection.onClose = nil
                connection.onReusable = nil
                self?.connectFailed(key: key)
                completion(.failure(HTTP1ClientBootstrap.failure(error)))
            }
        }
    }

    /// A connection's response ended and it may carry another: to the next waiter, else idle.
    private func release(_ connection: UpstreamConnection, key: ObjectIdentifier) {
        guard !closed else { return connection.close() }
        guard let entry = targets[key] else { return connection.close() }
        if let waiter = entry.waiters.popFirst() {
            waiter.timer?.cancel()
            // After the current call stack: the finishing request has not yet let go of it.
            eventLoop.assumeIsolated().execute { waiter.completion(.success(connection)) }
            return
        }
        entry.idle.append(connection)
    }

    private func closed(_ connection: UpstreamConnection, key: ObjectIdentifier) {
        guard let entry = targets[key] else { return }
        entry.open -= 1
        entry.idle.removeAll { $0 === connection }
        startWaiterIfRoom(key: key)
    }

    private func connectFailed(key: ObjectIdentifier) {
        // The connection never opened; its channelInactive (if any) finds no entry count to spare.
        guard let entry = targets[key] else { return }
        entry.open -= 1
        startWaiterIfRoom(key: key)
    }

    /// Starts the next waiter's connection if the limit allows; forgets a target with no
    /// connection and no waiter, so that targets a DNS refresh replaced do not pile up.
    private func startWaiterIfRoom(key: ObjectIdentifier) {
        guard let entry = targets[key] else { return }
        if entry.open == 0, entry.waiters.isEmpty {
            targets[key] = nil
            return
        }
        guard !closed, entry.open < limit, let waiter = entry.waiters.popFirst() else { return }
        waiter.timer?.cancel()
        entry.open += 1
        connect(entry.target, key: key, completion: waiter.completion)
    }

    /// Targets with a connection or a waiter (for tests).
    var targetCount: Int { targets.count }

    private func expire(waiter id: Int, key: ObjectIdentifier) {
        guard let entry = targets[key], let index = entry.waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = entry.waiters.remove(at: index)
        waiter.completion(.failure(.poolExhausted))
    }
}
