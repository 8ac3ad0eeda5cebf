import ServiceLifecycle
import Synchronization

/// A bounded queue that request paths append to and a background service drains in batches.
///
/// Appending never waits: past `capacity` (counted by `cost`) the item is dropped and counted,
/// so a slow sink costs records, never latency.
package final class BatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var costs: [Int] = []
        var cost = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    /// - Parameter capacity: the most the queue holds, in the units `append(_:cost:)` counts.
    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds an item unless the queue is full; returns how many items are queued now.
    @discardableResult
    package func append(_ item: Element, cost: Int = 1) -> Int {
        state.withLock { state in
            guard state.cost + cost <= capacity else {
                state.dropped += 1
                return state.items.count
            }
            state.items.append(item)
            state.costs.append(cost)
            state.cost += cost
            return state.items.count
        }
    }

    /// Takes up to `limit` items, oldest first.
    package func drain(upTo limit: Int) -> [Element] {
        state.withLock { state in
            guard state.items.count > limit else {
                defer {
                    state.items.removeAll(keepingCapacity: true)
                    state.costs.removeAll(keepingCapacity: true)
                    state.cost = 0
                }
                return state.items
            }
            let taken = Array(state.items.prefix(limit))
            state.items.removeFirst(limit)
            state.cost -= state.costs.prefix(limit).reduce(0, +)
            state.costs.removeFirst(limit)
            return taken
        }
    }

    /// Items waiting.
    package var count: Int { state.withLock { $0.items.count } }

    /// Takes everything queued.
    package func drain() -> [Element] {
        state.withLock { state in
            defer {
                state.items.removeAll(keepingCapacity: true)
                state.costs.removeAll(keepingCapacity: true)
                state.cost = 0
            }
            return state.items
        }
    }

    /// Items dropped because the queue was full.
    package var dropped: Int { state.withLock { $0.dropped } }

    /// Calls `flush` every `interval` until graceful shutdown, then once more for what is left.
    package static func flushPeriodically(every interval: Duration, _ flush: @escaping @Sendable () async -> Void) async
    {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                // A cancelled flush could fail half-way (GRDB checks cancellation); the final flush runs below.
                if Task.isCancelled { break }
                await flush()
            }
        }
        await flush()
    }
}
