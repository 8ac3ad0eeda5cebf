import HTTPTypes
import Synchronization

/// The in-memory store of cached responses: a byte budget, least-recently-used eviction, and
/// indexes by URL (for invalidation and purges) and by tag.
///
/// Entries are kept in a slab with an intrusive LRU list, all behind one lock; every operation
/// is a few dictionary and array steps, so a hit holds the lock for well under a microsecond.
package final class CacheStore: Sendable {
    private let state: Mutex<State>

    /// Where an entry lives: the request's host and target (path and query), plus the route's scope and key parts.
    struct Key: Hashable, Sendable, CustomStringConvertible {
        var host: String
        var target: String
        /// The route's scope and the configured key parts' values; invalidation ignores it.
        var extra: String

        var uri: URI { URI(host: host, target: target) }
        var description: String { host + " " + target + " " + extra }
    }

    struct URI: Hashable, Sendable {
        var host: String
        var target: String
    }

    /// A stored entry's place, to update it after a 304 if it is still there.
    struct Handle: Sendable {
        let slot: Int
        let generation: UInt64
    }

    enum Lookup: Sendable {
        case found(CachedResponse, Handle)
        /// Nothing is stored for this URL and key.
        case uriMiss
        /// Something is stored for it, but not for these request headers.
        case varyMiss
    }

    /// What `/admin/cache` shows.
    package struct Statistics: Sendable {
        package var entries: Int
        package var bytes: Int
        package var budget: Int
        package var stores: Int
        package var evictions: Int
    }

    /// What a purge matches.
    package enum Purge: Sendable {
        /// One URL: a path with its query, optionally with a host (any host when nil).
        case url(host: String?, target: String)
        /// Every URL whose target starts with the prefix.
        case prefix(host: String?, prefix: String)
        case tag(String)
        case all
    }

    private struct Slot {
        var key: Key
        var entry: CachedResponse
        var generation: UInt64
        /// What the entry costs the budget: its size and its key, Vary values and tags.
        var cost: Int
        var newer = -1
        var older = -1
    }

    private struct State {
        var budget: Int
        var bytes = 0
        var slots: [Slot?] = []
        var free: [Int] = []
        var newest = -1
        var oldest = -1
        var byURI: [URI: [Int]] = [:]
        var byTag: [String: Set<Int>] = [:]
        var generation: UInt64 = 0
        var stores = 0
        var evictions = 0

        mutating func unlink(_ index: Int) {
            let slot = slots[index]!
            if slot.newer >= 0 { slots[slot.newer]!.older = slot.older } else { newest = slot.older }
            if slot.older >= 0 { slots[slot.older]!.newer = slot.newer } else { oldest = slot.newer }
        }

        mutating func linkNewest(_ index: Int) {
            slots[index]!.newer = -1
            slots[index]!.older = newest
            if newest >= 0 { slots[newest]!.newer = index }
            newest = index
            if oldest < 0 { oldest = index }
        }

        mutating func touch(_ index: Int) {
            guard newest != index else { return }
            unlink(index)
            linkNewest(index)
        }

        mutating func remove(_ index: Int) {
            guard let slot = slots[index] else { return }
            unlink(index)
            bytes -= slot.cost
            let uri = slot.key.uri
            byURI[uri]?.removeAll { $0 == index }
            if byURI[uri]?.isEmpty == true { byURI[uri] = nil }
            for tag in slot.entry.tags {
                byTag[tag]?.remove(index)
                if byTag[tag]?.isEmpty == true { byTag[tag] = nil }
            }
            slots[index] = nil
            free.append(index)
        }

        mutating func insert(_ key: Key, _ entry: CachedResponse) {
            generation &+= 1
            let slot = Slot(key: key, entry: entry, generation: generation, cost: CacheStore.cost(key, entry))
            let index: Int
            if let reused = free.popLast() {
                index = reused
                slots[index] = slot
            } else {
                index = slots.count
                slots.append(slot)
            }
            linkNewest(index)
            bytes += slot.cost
            byURI[key.uri, default: []].append(index)
            for tag in entry.tags { byTag[tag, default: []].insert(index) }
        }

        mutating func evict(toFit size: Int) {
            while bytes + size > budget, oldest >= 0 {
                remove(oldest)
                evictions += 1
            }
        }
    }

    /// An entry's bytes against the budget: the response, and the key, Vary values and tags that
    /// a client's request chose (a 60 KB URL costs its 60 KB), with 64 bytes per index entry.
    static func cost(_ key: Key, _ entry: CachedResponse) -> Int {
        var cost = entry.size + key.host.utf8.count * 2 + key.target.utf8.count * 2 + key.extra.utf8.count + 128
        for (name, value) in entry.vary { cost += name.rawName.utf8.count + (value?.utf8.count ?? 0) + 32 }
        for tag in entry.tags { cost += tag.utf8.count * 2 + 64 }
        return cost
    }

    /// A store that holds at most `budget` bytes of entries.
    package init(budget: Int) {
        state = Mutex(State(budget: budget))
    }

    /// Changes the budget (on reload), evicting the least recently used entries to fit.
    package func setBudget(_ budget: Int) {
        state.withLock { state in
            state.budget = budget
            state.evict(toFit: 0)
        }
    }

    /// The entry stored for `key` that these request headers select, marking it recently used.
    func lookup(_ key: Key, requestHeaders: HTTPFields) -> Lookup {
        state.withLock { state in
            guard let indexes = state.byURI[key.uri] else { return .uriMiss }
            var best: Int?
            for index in indexes {
                let slot = state.slots[index]!
                guard slot.key.extra == key.extra, slot.entry.matches(requestHeaders) else { continue }
                if let current = best, state.slots[current]!.entry.responseTime >= slot.entry.responseTime { continue }
                best = index
            }
            guard let best else {
                return indexes.contains { state.slots[$0]!.key.extra == key.extra } ? .varyMiss : .uriMiss
            }
            state.touch(best)
            let slot = state.slots[best]!
            return .found(slot.entry, Handle(slot: best, generation: slot.generation))
        }
    }

    /// Stores `entry`, replacing what the same request headers selected before. Returns false
    /// when the entry is larger than the whole budget.
    @discardableResult
    func store(_ key: Key, _ entry: CachedResponse) -> Bool {
        state.withLock { state in
            let cost = Self.cost(key, entry)
            guard cost <= state.budget else { return false }
            for index in state.byURI[key.uri] ?? [] {
                let slot = state.slots[index]!
                if slot.key.extra == key.extra,
                    slot.entry.vary.elementsEqual(entry.vary, by: { $0.name == $1.name && $0.value == $1.value })
                {
                    state.remove(index)
                }
            }
            state.evict(toFit: cost)
            state.insert(key, entry)
            state.stores += 1
            return true
        }
    }

    /// Replaces the entry at `handle` (after a 304), or stores it anew if it was evicted meanwhile.
    func replace(_ handle: Handle, key: Key, with entry: CachedResponse) {
        let replaced = state.withLock { state -> Bool in
            guard handle.slot < state.slots.count, let slot = state.slots[handle.slot],
                slot.generation == handle.generation
            else {
                return false
            }
            state.remove(handle.slot)
            state.evict(toFit: Self.cost(slot.key, entry))
            state.insert(slot.key, entry)
            return true
        }
        if !replaced { store(key, entry) }
    }

    /// Removes every entry for this host and target, whatever its key parts and variants (RFC 9111 section 4.4).
    @discardableResult
    func invalidate(host: String, target: String) -> Int {
        state.withLock { state in
            let indexes = state.byURI[URI(host: host, target: target)] ?? []
            for index in indexes { state.remove(index) }
            return indexes.count
        }
    }

    /// Removes what `purge` matches; returns how many entries went.
    package func purge(_ purge: Purge) -> Int {
        state.withLock { state in
            var doomed: [Int] = []
            switch purge {
            case .url(let host, let target):
                for (uri, indexes) in state.byURI where uri.target == target && (host == nil || uri.host == host) {
                    doomed += indexes
                }
            case .prefix(let host, let prefix):
                for (uri, indexes) in state.byURI
                where uri.target.hasPrefix(prefix) && (host == nil || uri.host == host) {
                    doomed += indexes
                }
            case .tag(let tag):
                doomed = Array(state.byTag[tag] ?? [])
            case .all:
                doomed = state.slots.indices.filter { state.slots[$0] != nil }
            }
            for index in doomed { state.remove(index) }
            return doomed.count
        }
    }

    /// Entry and byte counts against the budget.
    package var statistics: Statistics {
        state.withLock { state in
            Statistics(
                entries: state.slots.count - state.free.count, bytes: state.bytes, budget: state.budget,
                stores: state.stores,
                evictions: state.evictions)
        }
    }
}
