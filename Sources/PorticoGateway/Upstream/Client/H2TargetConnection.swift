import NIOCore
import NIOHTTP2
import NIOHTTPTypesHTTP2
import NIOPosix
import NIOSSL
import PorticoConfig

/// One event loop's HTTP/2 connection to a target of an upstream with `protocol: h2` (cleartext,
/// prior knowledge): every request of this loop to that target is a stream on it, as Envoy's
/// per-worker HTTP/2 pools do. Streams over the target's `SETTINGS_MAX_CONCURRENT_STREAMS` wait
/// in NIOHTTP2 until one closes.
///
/// Once the target sends `GOAWAY`, or the connection closes, it takes no new streams and the
/// pool opens another; streams under way finish. With no stream open for the upstream's idle
/// timeout it closes. Everything here runs on `eventLoop`.
final class H2TargetConnection: @unchecked Sendable {
    private enum State {
        case connecting([(Result<NIOHTTP2Handler.StreamMultiplexer, UpstreamFailure>) -> Void])
        case ready(NIOHTTP2Handler.StreamMultiplexer, any Channel)
        case closed
    }

    let eventLoop: any EventLoop
    let target: TargetConfig
    let connectTimeout: TimeAmount
    let idleTimeout: TimeAmount
    /// Called once, when it takes no more streams (`GOAWAY`, closed, or failed to connect).
    var onRetired: ((H2TargetConnection) -> Void)?
    private var state = State.connecting([])
    private var retired = false
    private var openStreams = 0
    private var idleTimer: Scheduled<Void>?

    /// For an `https://` target: the client context (ALPN `h2`) and the name verified in its
    /// certificate (`tls.server-name`, else the target's host; an IP address is verified against
    /// the certificate's IP addresses).
    let tls: NIOSSLContext?
    let serverName: String?

    init(
        target: TargetConfig, eventLoop: any EventLoop, connectTimeout: TimeAmount, idleTimeout: TimeAmount,
        tls: NIOSSLContext?,
        serverName: String?
    ) {
        self.tls = tls
        self.serverName = serverName
        self.target = target
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
    }

    /// Whether new streams may be opened on it.
    var isUsable: Bool { !retired }

    /// Opens the TCP connection and sends the HTTP/2 preface; streams asked for meanwhile wait.
    func connect() {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if self.target.scheme == "https" {
                        guard let tls = self.tls else { throw NIOSSLError.failedToLoadCertificate }
                        let name = self.serverName ?? self.target.host
                        let sni = (try? SocketAddress(ipAddress: name, port: 0)) == nil ? name : nil
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: sni))
                    }
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init(),
                        // A target does not open streams to a client (no server push).
                        inboundStreamInitializer: { stream in stream.close() })
                    try channel.pipeline.syncOperations.addHandler(H2GoAwayWatch { self.retire() })
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .whenComplete { result in
                guard case .connecting(let waiters) = self.state else { return }
                switch result {
                case .success(let channel):
                    guard
                        let multiplexer = try? channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self)
                            .syncMultiplexer()
                    else {
                        channel.close(promise: nil)
                        return self.failed(waiters, .connectFailure)
                    }
                    self.state = .ready(multiplexer, channel)
                    channel.closeFuture.assumeIsolated().whenComplete { _ in self.closed() }
                    for waiter in waiters { waiter(.success(multiplexer)) }
                    self.armIdleTimer()
                case .failure(let error):
                    self.failed(waiters, HTTP1ClientBootstrap.failure(error))
                }
            }
    }

    /// Hands `completion` a new stream on this connection, or the failure to open one.
    func openStream(
        bodyIdleTimeout: TimeAmount, completion: @escaping (Result<H2UpstreamStream, UpstreamFailure>) -> Void
    ) {
        eventLoop.assertInEventLoop()
        switch state {
        case .connecting(var waiters):
            waiters.append { result in
                switch result {
                case .success(let multiplexer):
                    self.open(on: multiplexer, bodyIdleTimeout: bodyIdleTimeout, completion: completion)
                case .failure(let failure): completion(.failure(failure))
                }
            }
            state = .connecting(waiters)
        case .ready(let multiplexer, _):
            open(on: multiplexer, bodyIdleTimeout: bodyIdleTimeout, completion: completion)
        case .closed:
            completion(.failure(.connectFailure))
        }
    }

    /// Closes the connection once its open streams are done (shutdown).
    func close() {
        retire()
        if openStreams == 0, case .ready(_, let channel) = state { channel.close(promise: nil) }
    }

    // MARK: Internals

    private func open(
        on multiplexer: NIOHTTP2Handler.StreamMultiplexer, bodyIdleTimeout: TimeAmount,
        completion: @escaping (Result<H2UpstreamStream, UpstreamFailure>) -> Void
    ) {
        let stream = H2UpstreamStream(eventLoop: eventLoop, bodyIdleTimeout: bodyIdleTimeout)
        let promise = eventLoop.makePromise(of: (any Channel).self)
        openStreams += 1
        idleTimer?.cancel()
        idleTimer = nil
        multiplexer.createStreamChannel(promise: promise) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPClientCodec())
                try channel.pipeline.syncOperations.addHandler(stream)
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                channel.closeFuture.assumeIsolated().whenComplete { _ in self.streamClosed() }
                completion(.success(stream))
            case .failure:
                self.streamClosed()
                completion(.failure(.connectFailure))
            }
        }
    }

    private func streamClosed() {
        openStreams -= 1
        guard openStreams == 0 else { return }
        if retired, case .ready(_, let channel) = state { return channel.close(promise: nil) }
        armIdleTimer()
    }

    private func armIdleTimer() {
        guard openStreams == 0, idleTimer == nil, case .ready(_, let channel) = state else { return }
        idleTimer = eventLoop.scheduleTask(in: idleTimeout) {
            self.idleTimer = nil
            guard self.openStreams == 0 else { return }
            self.retire()
            channel.close(promise: nil)
        }
    }

    private func retire() {
        guard !retired else { return }
        retired = true
        onRetired?(self)
        onRetired = nil
    }

    private func failed(
        _ waiters: [(Result<NIOHTTP2Handler.StreamMultiplexer, UpstreamFailure>) -> Void], _ failure: UpstreamFailure
    ) {
        state = .closed
        retire()
        for waiter in waiters { waiter(.failure(failure)) }
    }

    private func closed() {
        state = .closed
        idleTimer?.cancel()
        idleTimer = nil
        retire()
    }
}
