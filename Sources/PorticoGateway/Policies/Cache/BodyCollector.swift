import Hummingbird
import NIOCore
import Synchronization

/// Gathers a response body as it is written to the client, up to a size limit, and hands the
/// whole of it over once the last byte has gone (nil if it grew too large or never finished).
final class BodyCollector: Sendable {
    private let state: Mutex<(buffer: ByteBuffer?, done: Bool)>
    private let limit: Int
    private let completion: @Sendable (ByteBuffer?) -> Void

    /// - Parameters:
    ///   - expected: the declared length, to allocate the buffer once.
    ///   - completion: called exactly once, with the body or nil.
    init(limit: Int, expected: Int?, completion: @escaping @Sendable (ByteBuffer?) -> Void) {
        self.limit = limit
        self.completion = completion
        let capacity = min(expected ?? 16 * 1024, limit)
        state = Mutex((ByteBufferAllocator().buffer(capacity: capacity), false))
    }

    /// Copies `chunk` in; past the limit the body is given up and only passes through.
    func append(_ chunk: ByteBuffer) {
        state.withLock { state in
            guard var buffer = state.buffer else { return }
            state.buffer = nil
            if buffer.readableBytes + chunk.readableBytes > limit { return }
            buffer.writeImmutableBuffer(chunk)
            state.buffer = buffer
        }
    }

    /// The body is complete: hand it over.
    func complete() { end(keeping: true) }

    /// The body will not complete (the write failed): hand over nothing.
    func abandon() { end(keeping: false) }

    private func end(keeping: Bool) {
        let result = state.withLock { state -> ByteBuffer?? in
            guard !state.done else { return .none }
            state.done = true
            defer { state.buffer = nil }
            return .some(keeping ? state.buffer : nil)
        }
        if case .some(let body) = result { completion(body) }
    }
}

/// Writes to the client and to a collector; the collector completes after the client's last write.
struct TeeWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let collector: BodyCollector

    mutating func write(_ buffer: ByteBuffer) async throws {
        do {
            try await base.write(buffer)
        } catch {
            collector.abandon()
            throw error
        }
        collector.append(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        do {
            try await base.finish(trailingHeaders)
        } catch {
            collector.abandon()
            throw error
        }
        collector.complete()
    }
}

/// Reads a body into a collector only, for bodies the client does not receive (a 304, a background refresh).
struct DrainWriter: ResponseBodyWriter {
    let collector: BodyCollector

    mutating func write(_ buffer: ByteBuffer) async throws {
        collector.append(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        collector.complete()
    }
}
