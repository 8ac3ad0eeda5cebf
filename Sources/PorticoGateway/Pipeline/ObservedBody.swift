import Hummingbird
import NIOCore

/// A request body that reports each chunk as it streams past, without buffering it.
///
/// `observe` gets the chunk's size and the running total; it may throw to stop the stream
/// (the body size limit does).
struct ObservedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let observe: @Sendable (_ chunk: Int, _ total: Int) throws -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let observe: @Sendable (Int, Int) throws -> Void
        var total = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            total += chunk.readableBytes
            try observe(chunk.readableBytes, total)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), observe: observe) }
}
