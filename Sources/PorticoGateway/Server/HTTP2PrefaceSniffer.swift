import NIOCore

/// Tells HTTP/2 with prior knowledge (h2c) from HTTP/1.1 on a cleartext listener by the
/// connection's first bytes: HTTP/2 begins with its 24-byte preface (RFC 9113 §3.4), which no
/// HTTP/1.1 request line can. Once it knows, it has `configure` set up the pipeline behind it,
/// hands on the bytes it held and leaves.
///
/// A client that trickles the preface is the header timeout's to close (the guard before this
/// handler counts its bytes as a request head's).
///
/// It runs on its connection's event loop (hence `@unchecked Sendable`, as `EventLoopPath`).
final class HTTP2PrefaceSniffer<Result: Sendable>: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static var preface: [UInt8] { Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) }

    private let configure: (_ isHTTP2: Bool) -> EventLoopFuture<Result>
    private let promise: EventLoopPromise<Result>
    private var held: ByteBuffer?
    private enum State {
        case sniffing
        /// Decided; the pipeline behind is being set up. Bytes are still held.
        case configuring
        case passing
        case failed
    }
    private var state = State.sniffing

    /// Completes with what `configure` made, or fails if the connection closes first.
    var result: EventLoopFuture<Result> { promise.futureResult }

    init(eventLoop: any EventLoop, configure: @escaping (_ isHTTP2: Bool) -> EventLoopFuture<Result>) {
        self.configure = configure
        self.promise = eventLoop.makePromise(of: Result.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .sniffing || state == .configuring else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if held == nil { held = bytes } else { held!.writeBuffer(&bytes) }
        guard state == .sniffing, let held, let isHTTP2 = Self.decide(held.readableBytesView) else { return }
        state = .configuring
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        configure(isHTTP2).hop(to: context.eventLoop).whenComplete { outcome in
            let context = loopBound.value
            switch outcome {
            case .success(let value):
                self.promise.succeed(value)
                self.release(context: context)
            case .failure(let error):
                self.state = .failed
                self.promise.fail(error)
                context.close(promise: nil)
            }
        }
    }

    /// true for HTTP/2, false for anything else, nil while the bytes so far begin the preface.
    static func decide(_ bytes: ByteBufferView) -> Bool? {
        let preface = Self.preface
        let compared = min(bytes.count, preface.count)
        guard bytes.prefix(compared).elementsEqual(preface.prefix(compared)) else { return false }
        return compared == preface.count ? true : nil
    }

    /// Passes the held bytes to the handlers `configure` added, then leaves the pipeline.
    private func release(context: ChannelHandlerContext) {
        state = .passing
        if let held {
            self.held = nil
            context.fireChannelRead(wrapInboundOut(held))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { fail() }

    /// The connection ended before its protocol was known.
    private func fail() {
        guard state == .sniffing else { return }
        state = .failed
        promise.fail(ChannelError.eof)
    }
}
