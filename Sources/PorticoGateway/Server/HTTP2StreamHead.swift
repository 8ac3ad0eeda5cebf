import HTTPTypes
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// The first handler after an HTTP/2 stream's codec: it makes each request head say what the
/// listener knows, as `EventLoopPath` does for HTTP/1.1. The scheme is the listener's (a client's
/// `:scheme` is its own claim), and the `Portico-Client-Cert-*` fields are the connection's
/// verified client certificate, whatever the client sent under those names.
final class HTTP2StreamHead: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let secure: Bool
    private var certificate: ClientCertificate?

    init(secure: Bool) { self.secure = secure }

    func handlerAdded(context: ChannelHandlerContext) {
        // A stream shares its connection's event loop, so the connection's TLS handler can be
        // asked here.
        guard secure, let connection = context.channel.parent else { return }
        certificate = (try? connection.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?
            .peerCertificate.flatMap(ClientCertificate.init)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        head.scheme = secure ? "https" : "http"
        ClientCertificate.apply(certificate, to: &head.headerFields)
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
