import PorticoConfig
import Synchronization

/// The answers of composite endpoints' backend calls that a call's `cache: true` lets the gateway
/// keep, for as long as each backend's `Cache-Control` allows a shared cache.
///
/// One per runtime (`CacheContext.backends`; `POST /admin/cache/purge {"all": true}` empties
/// it), bounded in bytes (`budget`) and in entries; when full, expired entries go
/// first, then the oldest. Keys hold the upstream, method, path and every header the call sends
/// that is not unique per request, so two consumers share an entry only when the backend would
/// have seen the same request.
package final class BackendCache: Sendable {
    struct Entry: Sendable {
        let answer: CallAnswer
        let expires: ContinuousClock.Instant
        /// What the entry counts against the budget.
        let bytes: Int
        /// The answer's body as the backend sent it.
        let bodyBytes: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order they were stored, for eviction.
        var order: [String] = []
        var bytes = 0
    }

    let budget: Int
    let maxEntries: Int
    /// An answer larger than this is not kept.
    let maxEntryBytes: Int
    private let state = Mutex(State())

    init(budget: Int = 32 << 20, maxEntries: Int = 10_000, maxEntryBytes: Int = 1 << 20) {
        self.budget = budget
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxEntryBytes
    }

    /// The fresh answer stored for `key`, with the size of the body it was read from.
    func answer(for key: String, now: ContinuousClock.Instant) -> (answer: CallAnswer, bytes: Int)? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                state.entries[key] = nil
                state.bytes -= entry.bytes
                return nil
            }
            return (entry.answer, entry.bodyBytes)
        }
    }

    /// Keeps `answer` for `lifetime` seconds, when it fits.
    func store(_ answer: CallAnswer, bytes: Int, for key: String, lifetime: Int, now: ContinuousClock.Instant) {
        let size = bytes + key.utf8.count + 128
        guard lifetime > 0, size <= maxEntryBytes, size <= budget else { return }
        let entry = Entry(
            answer: answer, expires: now + .seconds(min(lifetime, 86_400 * 365)), bytes: size, bodyBytes: bytes)
        state.withLock { state in
            if let old = state.entries[key] {
                state.bytes -= old.bytes
            } else {
                state.order.append(key)
            }
            state.entries[key] = entry
            state.bytes += size
            // Keys of entries that expired on reading stay in `order` until a sweep.
            guard
                state.bytes > budget || state.entries.count > maxEntries
                    || state.order.count > 2 * state.entries.count + 64
            else { return }
            // Expired entries first, then the oldest, until the new one fits.
            for (name, stored) in state.entries where stored.expires <= now {
                state.entries[name] = nil
                state.bytes -= stored.bytes
            }
            var kept: [String] = []
            kept.reserveCapacity(state.entries.count)
            var seen: Set<String> = []
            for name in state.order where state.entries[name] != nil && seen.insert(name).inserted {
                if state.bytes > budget || state.entries.count > maxEntries, name != key,
                    let stored = state.entries[name]
                {
                    state.entries[name] = nil
                    state.bytes -= stored.bytes
                } else {
                    kept.append(name)
                }
            }
            state.order = kept
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Drops every answer; returns how many there were.
    package func removeAll() -> Int {
        state.withLock { state in
            defer { state = State() }
            return state.entries.count
        }
    }
}
