import HTTPTypes
import NIOCore

/// The client's end of a call served on the event loop (`LoopCall`): an HTTP/1.1 connection
/// (`EventLoopPath`) or an HTTP/2 stream (`HTTP2StreamPath`). It writes the response in its own
/// framing, and hears when the call is over. Everything runs on its event loop.
protocol LoopClient: AnyObject {
    var eventLoop: any EventLoop { get }
    /// Whether the client's channel takes more bytes now; `LoopCall.clientWritable()` follows when it does again.
    var isClientWritable: Bool { get }
    /// `1.1` or `2`, for the call record.
    var protocolVersion: String { get }
    func write(head: HTTPResponse)
    func write(body: ByteBuffer)
    /// Ends the response; `promise` completes once every byte before it is written.
    func write(end trailers: HTTPFields?, promise: EventLoopPromise<Void>)
    func flushResponse()
    /// The response cannot be finished (the target failed mid-body): the client learns it by the close.
    func abortResponse()
    /// The call wrote its record and is over.
    func callFinished(_ call: LoopCall, aborted: Bool)
    /// The target switched protocols and the 101 is written: the client's channel becomes the
    /// tunnel's other side. Only an HTTP/1.1 connection can.
    func startTunnel(_ tunnel: Tunnel) throws
    /// Holds the client's reads while a streamed request body cannot go on (`false` lets them go
    /// on). Only an HTTP/2 stream carries such a body.
    func holdRequestBody(_ hold: Bool)
}
