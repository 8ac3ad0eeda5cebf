import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Moves call records from the request path into the store in batches.
///
/// `record` only packs the call into a bounded queue (`CallRecordQueue`); when the queue is
/// full the record is dropped and counted (and the writer logs it), so a slow disk or a lost
/// database never slows traffic. The service writes every 100 ms, or as soon as 1,000 records
/// are waiting, in transactions of at most 1,000 records (the calls and their rollups
/// together), and flushes what is left at graceful shutdown. A batch the store refuses is kept
/// aside and tried again, whole, before anything newer, after a back-off (250 ms doubling to
/// 5 s), so a store that is away for a while loses nothing the queue can hold. Each batch has an
/// id, which a shared store records with it: a write that committed although its answer was
/// lost is not written twice.
package final class CallLogWriter: CallRecordSink, Service {
    package static let batchSize = 1000
    private let queue: CallRecordQueue
    private let store: any DataStore
    private let logger: Logger
    private let written = Atomic<Int>(0)
    /// Failed writes in a row, and when to try again.
    private struct Failure {
        var count: Int
        var retryAt: ContinuousClock.Instant
    }
    private let failure = Mutex<Failure?>(nil)
    /// The batch the store refused last, to be written again before anything newer.
    private let retrying = Mutex<CallRecordBatch?>(nil)
    static let minimumRetryDelay = Duration.milliseconds(250)
    static let maximumRetryDelay = Duration.seconds(5)
    /// Flushes between taking a batch and committing it.
    private let writing = Atomic<Int>(0)

    package init(store: any DataStore, capacity: Int = 100_000, logger: Logger) {
        self.store = store
        self.queue = CallRecordQueue(capacity: capacity)
        self.capacity = capacity
        self.logger = logger
    }

    package func record(_ call: CallRecord) {
        queue.append(call)
    }

    /// Records dropped because the queue was full.
    package var droppedCount: Int { queue.dropped }
    /// Records waiting to be written (a refused batch waiting to be tried again included).
    package var queuedCount: Int { queue.count + (retrying.withLock { $0?.count } ?? 0) }

    /// Bytes the waiting calls hold, and the most they may (more are dropped and counted).
    package var queuedBytes: Int { queue.bytes }
    package var maximumQueuedBytes: Int { queue.maximumBytes }
    /// The most calls that may wait.
    package let capacity: Int
    /// Records written since start.
    package var writtenCount: Int { written.load(ordering: .relaxed) }

    package func run() async throws {
        // The loop stops at graceful shutdown by checking, not by being cancelled: cancelling a
        // GRDB write in progress throws, and the batch it held would be lost.
        var lastWrite = ContinuousClock.now
        var lastRollUp = ContinuousClock.now - Self.rollUpInterval
        var reportedDrops = queue.dropped
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // A cheap check every 10 ms: write when 100 ms have passed or a full batch waits.
            try? await Task.sleep(for: .milliseconds(10))
            let dropped = queue.dropped
            if dropped > reportedDrops {
                logger.warning(
                    "call log queue full: calls dropped",
                    metadata: [
                        "calls.dropped": "\(dropped - reportedDrops)", "calls.dropped_total": "\(dropped)",
                        "calls.queued": "\(queue.count)",
                    ])
                reportedDrops = dropped
            }
            if let retryAt = failure.withLock({ $0?.retryAt }), ContinuousClock.now < retryAt { continue }
            guard queue.count >= Self.batchSize || ContinuousClock.now - lastWrite >= .milliseconds(100) else {
                continue
            }
            await flush()
            lastWrite = ContinuousClock.now
            if lastWrite - lastRollUp >= Self.rollUpInterval {
                await rollUp()
                lastRollUp = ContinuousClock.now
            }
        }
        await flush()
        await rollUp()
    }

    /// How often the writer looks for finished hours to roll up from their minutes.
    static let rollUpInterval = Duration.seconds(10)

    private func rollUp() async {
        do {
            try await store.rollUp(before: Date())
        } catch {
            // Nothing is lost: the minutes stay, queries read them, and the next roll-up takes them.
            logger.error("rolling minutes up into hours failed", metadata: ["store.error": "\(error)"])
        }
    }

    /// Writes every queued record now, in batches, and returns once every record queued before
    /// the call is in the store, including a batch the service's own loop took and is writing.
    package func flush() async {
        while true {
            // Counted before the drain, so a batch taken from the queue is always seen as in flight.
            writing.add(1, ordering: .acquiringAndReleasing)
            // The batch the store last refused goes first, whole and with its id, so that a write
            // that did commit although the store's answer was lost is recognised and not repeated.
            var batch = retrying.withLock { $0.take() } ?? queue.drain(upTo: Self.batchSize)
            guard !batch.isEmpty else {
                writing.subtract(1, ordering: .acquiringAndReleasing)
                break
            }
            // Made only for a batch that is written (Foundation reads /dev/urandom for each).
            if batch.id == nil { batch.id = UUID() }
            do {
                try await store.insert(batch)
                written.add(batch.count, ordering: .relaxed)
                writing.subtract(1, ordering: .acquiringAndReleasing)
                if let failed = failure.withLock({ state -> Failure? in
                    defer { state = nil }; return state
                }) {
                    logger.notice("call log writes again", metadata: ["store.failures": "\(failed.count)"])
                }
                // Consumed, so the queue gets the only reference and reuses the memory as it is.
                queue.recycle(consume batch)
            } catch {
                // Kept aside, for the next try after the back-off.
                retrying.withLock { $0 = batch }
                writing.subtract(1, ordering: .acquiringAndReleasing)
                let delay = failure.withLock { state -> Duration in
                    let count = (state?.count ?? 0) + 1
                    let delay = min(Self.maximumRetryDelay, Self.minimumRetryDelay * (1 << min(count - 1, 8)))
                    state = Failure(count: count, retryAt: ContinuousClock.now + delay)
                    return delay
                }
                logger.error(
                    "call log write failed; the calls stay queued",
                    metadata: [
                        "store.error": "\(error)", "calls.queued": "\(queue.count + batch.count)",
                        "retry.ms":
                            "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ])
                break
            }
        }
        while writing.load(ordering: .acquiring) > 0 { try? await Task.sleep(for: .milliseconds(1)) }
    }
}
