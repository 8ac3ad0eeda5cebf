import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// The body of a request that an HTTP/2 stream passed on to the streaming path: the stream's
/// parts after the head, as buffers, up to the request's end. It can be iterated once (a second
/// iterator ends at once), as Hummingbird's own request bodies can.
struct HTTP2StreamBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    typealias Parts = NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator

    /// The parts, handed to the first iterator made.
    private final class Handover: @unchecked Sendable {
        private let lock = NIOLock()
        private var parts: Parts?
        init(_ parts: Parts) { self.parts = parts }
        func take() -> Parts? {
            lock.withLock {
                defer { parts = nil }
                return parts
            }
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate var parts: Parts?

        mutating func next() async throws -> ByteBuffer? {
            guard let part = try await parts?.next() else {
                parts = nil
                return nil
            }
            switch part {
            case .body(let buffer):
                return buffer
            case .end:
                parts = nil
                return nil
            case .head:
                throw PartOutOfOrder()
            }
        }
    }

    /// A second head on a stream, or a first part that is not one.
    struct PartOutOfOrder: Error {}

    private let handover: Handover

    init(_ parts: Parts) { handover = Handover(parts) }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: handover.take()) }
}
