import HTTPTypes
import NIOCore
import Synchronization

/// One try of the streaming path (`ProxyStage`) or one health probe, on a new stream of a
/// `protocol: h2` target's connection, the one the event-loop path uses (`LoopConnectionPool`).
///
/// The event-loop path leaves some requests to the streaming path: a body over 64 KiB, a body
/// without a length from an HTTP/1.1 client, a body that request validation reads. That path's
/// client, AsyncHTTPClient, speaks HTTP/2 only over TLS, so an `http://` target (h2c) was out of
/// its reach; this bridges the gateway's own HTTP/2 client to async code instead.
///
/// The response head is awaited. The response body is an async sequence whose back-pressure
/// pauses the stream's reads, so a slow client slows the target through HTTP/2 flow control. A
/// streamed request body is written as the client sends it (`write`, `end`), each piece waiting
/// while the stream's window is shut. Every state change happens on the stream's event loop.
final class H2StreamedCall: UpstreamResponseSink, @unchecked Sendable {
    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    /// Tells the call what the body's reader wants; it holds the call weakly, as the sequence it
    /// belongs to is held by the call.
    final class Demand: NIOAsyncSequenceProducerDelegate, @unchecked Sendable {
        weak var call: H2StreamedCall?
        let loop: any EventLoop

        init(loop: any EventLoop) {
            self.loop = loop
        }

        func produceMore() {
            loop.execute { self.call?.stream?.demand() }
        }

        func didTerminate() {
            loop.execute { self.call?.readerLeft() }
        }
    }

    private enum State {
        case idle
        case awaitingHead(CheckedContinuation<HTTPResponse, any Error>)
        case body
        /// The response ended, or the try failed or was given up.
        case done
    }

    let loop: any EventLoop
    /// The response body, once the head is in.
    let body: Body
    private let source: Body.Source
    private var state = State.idle
    private var stream: H2UpstreamStream?
    /// The request body's writer, waiting for the stream's window to open.
    private var writer: CheckedContinuation<Bool, Never>?
    private let endTrailers = Mutex<HTTPFields?>(nil)

    init(loop: any EventLoop) {
        self.loop = loop
        let demand = Demand(loop: loop)
        let sequence = Body.makeSequence(
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: true, delegate: demand)
        self.body = sequence.sequence
        self.source = sequence.source
        demand.call = self
    }

    /// The target's trailers, once `body` has ended.
    var trailers: HTTPFields? { endTrailers.withLock { $0 } }

    // MARK: Use, from async code

    /// Opens a stream to `target` on `pool` (which is on `loop`), sends `head` with `body`, and
    /// the request's end when `ends`; waits up to `timeout` for the response head. When the
    /// request does not end here, `opened` is called (on the loop) once its head is written, and
    /// the body follows with `write` and `end`.
    func send(
        _ head: HTTPRequest, body: ByteBuffer?, ends: Bool, target: UpstreamTarget, pool: LoopConnectionPool,
        timeout: TimeAmount, opened: @escaping @Sendable () -> Void = {}
    ) async throws -> HTTPResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.execute {
                    self.open(
                        continuation, head: head, body: body, ends: ends, target: target, pool: pool,
                        timeout: timeout, opened: opened)
                }
            }
        } onCancel: {
            loop.execute { self.giveUp(.reset) }
        }
    }

    /// Writes a piece of the streamed request body; returns once the stream takes more, or
    /// false when the try is over and the rest of the body is not wanted.
    func write(_ chunk: ByteBuffer) async -> Bool {
        await withCheckedContinuation { continuation in
            loop.execute {
                guard let stream = self.stream, self.isOpen else { return continuation.resume(returning: false) }
                stream.write(body: chunk)
                if stream.isWritable { return continuation.resume(returning: true) }
                self.writer = continuation
            }
        }
    }

    /// The end of the streamed request body.
    func end() {
        loop.execute { self.stream?.end(trailers: nil) }
    }

    /// The client's body broke off: the try ends, and the stream is reset.
    func clientFailed() {
        loop.execute { self.giveUp(.reset) }
    }

    /// Gives up a response whose body is not wanted (a retried answer): the stream is reset.
    func discard() {
        loop.execute { self.giveUp(.cutOff) }
    }

    // MARK: On the loop

    private var isOpen: Bool {
        switch state {
        case .awaitingHead, .body: return true
        case .idle, .done: return false
        }
    }

    private func open(
        _ continuation: CheckedContinuation<HTTPResponse, any Error>, head: HTTPRequest, body: ByteBuffer?, ends: Bool,
        target: UpstreamTarget, pool: LoopConnectionPool, timeout: TimeAmount, opened: @escaping () -> Void
    ) {
        guard case .idle = state else { return continuation.resume(throwing: UpstreamFailure.reset) }
        state = .awaitingHead(continuation)
        pool.acquireStream(target) { result in
            switch result {
            case .success(let stream):
                guard self.isOpen else { return stream.abandon() }
                self.stream = stream
                stream.send(head, body: body, ends: ends, timeout: timeout, to: self)
                if !ends, self.isOpen { opened() }
            case .failure(let failure):
                self.upstreamFailed(failure)
            }
        }
    }

    /// Ends the try as `failure` says, and resets the stream if it is still open.
    private func giveUp(_ failure: UpstreamFailure) {
        if case .idle = state { state = .done }
        upstreamFailed(failure)
        stream?.abandon()
    }

    /// The body's reader is gone: done reading, or went away before the end.
    private func readerLeft() {
        if case .body = state { giveUp(.cutOff) }
    }

    private func releaseWriter(_ goOn: Bool) {
        guard let writer else { return }
        self.writer = nil
        writer.resume(returning: goOn)
    }

    // MARK: UpstreamResponseSink

    func upstreamHead(_ head: HTTPResponse) {
        guard case .awaitingHead(let continuation) = state else { return }
        state = .body
        continuation.resume(returning: head)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard case .body = state else { return }
        switch source.yield(buffer) {
        case .produceMore: break
        case .stopProducing: stream?.pause()
        case .dropped: giveUp(.cutOff)
        }
    }

    func upstreamReadComplete() {}

    func upstreamEnd(trailers: HTTPFields?) {
        guard case .body = state else { return }
        state = .done
        endTrailers.withLock { $0 = trailers }
        source.finish()
        releaseWriter(false)
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        let previous = state
        state = .done
        releaseWriter(false)
        switch previous {
        case .awaitingHead(let continuation): continuation.resume(throwing: failure)
        case .body: source.finish(failure)
        case .idle, .done: break
        }
    }

    func upstreamWritable() {
        releaseWriter(true)
    }
}
