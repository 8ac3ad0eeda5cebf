import Hummingbird
import NIOCore

/// A request body that reports each chunk as it streams past, without buffering it.
///
/// `observe` gets the chunk's size and the running total; it may throw to stop the stream
/// (the body size limit does).
/// `failed`, when given, hears the error that ended the stream, whether reading the client's
/// body failed or `observe` refused it: the proxy tells such client faults from upstream ones.
struct ObservedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    var failed: (@Sendable (any Error) -> Void)? = nil
    let observe: @Sendable (_ chunk: Int, _ total: Int) throws -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let failed: (@Sendable (any Error) -> Void)?
        let observe: @Sendable (Int, Int) throws -> Void
        var total = 0

        mutating func next() async throws -> ByteBuffer? {
            do {
                guard let chunk = try await base.next() else { return nil }
                total += chunk.readableBytes
                try observe(chunk.readableBytes, total)
                return chunk
            } catch {
                failed?(error)
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), failed: failed, observe: observe)
    }
}
