/// A listener's HTTP/2 settings (`http2:`), sent to each client in the connection's first
/// SETTINGS frame and enforced on what the client sends.
package struct HTTP2ListenerSettings: Sendable, Hashable {
    /// `max-concurrent-streams`: the streams a client may have open at once on one connection;
    /// a stream past it is refused (`REFUSED_STREAM`).
    package var maxConcurrentStreams = 100
    /// `initial-window-size`: how many bytes of a request body a client may send on a stream
    /// before the gateway's window updates; also the size the gateway keeps each window at.
    package var initialWindowSize = 65535
    /// `max-header-list-size`: the largest decoded header list (names, values and 32 bytes per
    /// field) a request may have; a larger one ends the connection.
    package var maxHeaderListSize = 16384

    package init() {}

    /// The ranges each setting is checked against, which keep a connection's memory bounded: each
    /// open stream is a channel, and may hold up to its window of request body not yet read.
    package static let streamRange = 1...1000
    package static let windowRange = 1...16_777_216
    package static let headerListRange = 1024...1_048_576
    /// The most request body one connection may hold unread: every stream's window together.
    package static let connectionBodyLimit = 268_435_456

    /// What every stream's window comes to on one connection (bounded by the ranges, so it
    /// cannot overflow).
    package var windowsTogether: Int { maxConcurrentStreams * initialWindowSize }
}
