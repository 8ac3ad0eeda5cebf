import NIOCore
import NIOHTTP2

/// Closes an HTTP/2 connection whose client has closed its side of it.
///
/// The listeners allow half-closure (an HTTP/1.1 client may send its last request and shut its
/// side while it waits for the answer), so the end of a client's input is an event, not a close.
/// An HTTP/2 client that shuts its side sends no more frames, not even the acknowledgement of a
/// graceful shutdown's PING, so the connection would stay open until its idle timeout (and a
/// graceful shutdown would wait for it); it is closed at once, as HummingbirdHTTP2's connection
/// manager closes it. A stream still open then is cut: HTTP/2 clients do not half-close.
final class HTTP2InputClosedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
