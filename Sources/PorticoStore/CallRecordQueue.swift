import Synchronization

/// The call log's bounded queue: the request path packs each call into the open batch, the
/// writer takes the batch whole and hands its memory back once written.
///
/// Appending never waits on the disk: past `capacity` calls the call is dropped and counted.
final class CallRecordQueue: Sendable {
    private struct State {
        var batch = CallRecordBatch()
        /// An emptied batch the writer gave back; it becomes the open batch at the next drain,
        /// so appends reuse its memory instead of growing a new buffer for every batch.
        var spare = CallRecordBatch()
        var dropped = 0
    }

    private let state = Mutex(State())
    private let capacity: Int
    /// The packed bytes the open batch may hold: the count alone would let long records
    /// (a client's 2 KiB paths) take far more memory than `capacity` suggests.
    let maximumBytes: Int

    init(capacity: Int, maximumBytes: Int = 64 << 20) {
        self.capacity = capacity
        self.maximumBytes = maximumBytes
    }

    func append(_ call: CallRecord) {
        state.withLock { state in
            guard state.batch.count < capacity, state.batch.byteCount < maximumBytes else {
                state.dropped += 1
                return
            }
            state.batch.append(call)
        }
    }

    /// Takes up to `limit` calls, oldest first. Give the batch back with `recycle` once written.
    func drain(upTo limit: Int) -> CallRecordBatch {
        state.withLock { state in
            guard state.batch.count > limit else {
                var taken = CallRecordBatch()
                swap(&taken, &state.spare)
                swap(&taken, &state.batch)
                return taken
            }
            return state.batch.removeFirst(limit)
        }
    }

    /// Takes back a drained batch for its memory.
    func recycle(_ batch: consuming CallRecordBatch) {
        batch.removeAll()
        let unused: CallRecordBatch? = state.withLock { state in
            guard batch.capacity > state.spare.capacity else { return nil }
            defer { state.spare = batch }
            return state.spare
        }
        _ = unused  // freed outside the lock
    }

    /// Calls waiting.
    var count: Int { state.withLock { $0.batch.count } }

    /// Packed bytes waiting.
    var bytes: Int { state.withLock { $0.batch.byteCount } }

    /// Calls dropped because the queue was full.
    var dropped: Int { state.withLock { $0.dropped } }
}
