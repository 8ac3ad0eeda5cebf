import Logging
import ServiceLifecycle

/// Moves call records from the request path into SQLite in batches.
///
/// `record` only appends to a bounded queue; when the queue is full the record is dropped and
/// counted, so a slow disk never slows traffic. The service writes a batch every 250 ms and
/// flushes what is left at graceful shutdown.
public final class CallLogWriter: CallRecordSink, Service {
    private let queue: BatchQueue<CallRecord>
    private let store: SQLiteStore
    private let logger: Logger

    public init(store: SQLiteStore, capacity: Int = 65_536, logger: Logger) {
        self.store = store
        self.queue = BatchQueue(capacity: capacity)
        self.logger = logger
    }

    public func record(_ call: CallRecord) {
        queue.append(call)
    }

    /// Records dropped because the queue was full.
    public var droppedCount: Int { queue.dropped }

    public func run() async throws {
        await BatchQueue<CallRecord>.flushPeriodically(every: .milliseconds(250)) { await self.flush() }
    }

    /// Writes every queued record now.
    public func flush() async {
        let batch = queue.drain()
        guard !batch.isEmpty else { return }
        do {
            try await store.insert(batch)
        } catch {
            logger.error("call log write failed", metadata: ["store.error": "\(error)", "calls.lost": "\(batch.count)"])
        }
    }
}
