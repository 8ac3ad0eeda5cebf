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
    /// The response is complete.
    func upstreamEnd()
    /// The try failed; `kind` says whether before the head (`reset`, `timeout`…) or in the body (`cutOff`).
    func upstreamFailed(_ failure: UpstreamFailure)
}
