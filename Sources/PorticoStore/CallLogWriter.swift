import Logging
import ServiceLifecycle
import Synchronization

/// Moves call records from the request path into SQLite in batches.
///
/// `record` only appends to a bounded queue; when the queue is full the record is dropped and
/// counted, so a slow disk never slows traffic. The service writes a batch every 250 ms and
/// flushes what is left at graceful shutdown.
public final class CallLogWriter: CallRecordSink, Service {
    private struct State {
        var queue: [CallRecord] = []
        var dropped = 0
        var written = 0
    }

    private let state = Mutex(State())
    private let store: SQLiteStore
    private let capacity: Int
    private let logger: Logger

    public init(store: SQLiteStore, capacity: Int = 65_536, logger: Logger) {
        self.store = store
        self.capacity = capacity
        self.logger = logger
    }

    public func record(_ call: CallRecord) {
        state.withLock { state in
            if state.queue.count < capacity {
                state.queue.append(call)
            } else {
                state.dropped += 1
            }
        }
    }

    /// Records dropped because the queue was full.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                if Task.isCancelled { break }
                await self.flush()
            }
        }
        await flush()
    }

    /// Writes every queued record now.
    public func flush() async {
        let batch = state.withLock { state -> [CallRecord] in
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.insert(batch)
        } catch {
            logger.error("call log write failed", metadata: ["store.error": "\(error)", "calls.lost": "\(batch.count)"])
        }
    }
}
