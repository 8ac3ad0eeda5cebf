import HummingbirdCore
import Logging
import NIOCore
import NIOTLS

/// A data-plane connection on a listener that serves HTTP/2: over TLS the protocol is the one
/// ALPN chose, in cleartext the connection's first bytes tell h2c (prior knowledge) from
/// HTTP/1.1. Either way the connection has the same TLS handler and guard first.
///
/// HTTP/1.1 connections get `GuardedHTTP1Channel`'s pipeline, with the event-loop path. HTTP/2
/// connections get `EdgeHTTP2Connection`'s: NIOHTTP2 with its defences, and each stream served
/// on the event loop, or passed on to the streaming path where a policy must wait.
struct EdgeChannel: ServerChildChannel {
    enum Negotiated: Sendable {
        case http1(GuardedHTTP1Channel.Value)
        case http2(EdgeHTTP2Connection.Value)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let http1: GuardedHTTP1Channel
    let http2: EdgeHTTP2Connection
    /// Whether HTTP/1.1 is served beside HTTP/2.
    let servesHTTP1: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let owner = try http1.addConnectionHandlers(to: channel)
            let choose: (Bool) -> EventLoopFuture<Negotiated> = { isHTTP2 in
                if isHTTP2 {
                    owner.stopPacing()
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                }
                guard servesHTTP1 else { return channel.eventLoop.makeFailedFuture(EdgeChannelError.http1NotServed) }
                return channel.eventLoop.makeCompletedFuture {
                    .http1(try http1.addHTTPHandlers(to: channel, guard: owner, logger: logger))
                }
            }
            let negotiated: EventLoopFuture<Negotiated>
            if http1.tls != nil {
                let alpn = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result in
                    switch result {
                    case .negotiated("h2"):
                        return choose(true)
                    case .negotiated("http/1.1"), .fallback:
                        return choose(false)
                    case .negotiated:
                        return channel.eventLoop.makeFailedFuture(EdgeChannelError.http1NotServed)
                    }
                }
                try channel.pipeline.syncOperations.addHandler(alpn)
                negotiated = alpn.protocolNegotiationResult
            } else {
                let sniffer = HTTP2PrefaceSniffer<Negotiated>(eventLoop: channel.eventLoop, configure: choose)
                try channel.pipeline.syncOperations.addHandler(sniffer)
                negotiated = sniffer.result
            }
            negotiated.whenFailure { _ in channel.close(promise: nil) }
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let negotiated = try? await value.negotiated.get() else { return }
        switch negotiated {
        case .http1(let connection): await http1.handle(value: connection, logger: logger)
        case .http2(let connection): await http2.handle(value: connection, logger: logger)
        }
    }
}

enum EdgeChannelError: Error {
    /// The client chose HTTP/1.1 (or no protocol) on a listener that serves only HTTP/2.
    case http1NotServed
}
