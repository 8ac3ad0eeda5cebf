import HTTPTypes
import NIOCore

/// Whoever takes one upstream response as it arrives, on the connection's event loop.
///
/// The connection reads its next bytes only when the sink asks (`UpstreamConnection.demand()`),
/// so a slow client slows the upstream instead of filling memory.
protocol UpstreamResponseSink: AnyObject {
    /// The response head arrived (informational 1xx heads are not passed on).
    func upstreamHead(_ head: HTTPResponse)
    /// A piece of the response body.
    func upstreamBody(_ buffer: ByteBuffer)
    /// The connection's read finished a batch: a good moment to flush, and to ask for more.
    func upstreamReadComplete()
    /// The response is complete, with the target's trailers if it sent any (gRPC's status).
    func upstreamEnd(trailers: HTTPFields?)
    /// The try failed; `kind` says whether before the head (`reset`, `timeout`…) or in the body (`cutOff`).
    func upstreamFailed(_ failure: UpstreamFailure)
    /// A streamed request's leg takes more of the body again (`H2UpstreamStream`).
    func upstreamWritable()
}

extension UpstreamResponseSink {
    /// Sinks that send whole requests never wait for the leg to take more.
    func upstreamWritable() {}
}

/// The one exchange with a target that a sink is using: an HTTP/1.1 connection of the pool
/// (`UpstreamConnection`) or an HTTP/2 stream (`H2UpstreamStream`).
protocol UpstreamLeg: AnyObject {
    /// The sink cannot take more for now: stop reading from the target.
    func pause()
    /// The sink can take more of the body.
    func demand()
    /// The sink no longer wants this exchange (its client went away): end it, never reuse it mid-request.
    func abandon()
}
