import Foundation
import NIOCore
import Synchronization

/// Where limit state lives. One call decides for one key under one limit, atomically.
///
/// The in-memory store is the default. A cluster store (Redis: one script per decision, the
/// entry's fields in a hash with a TTL of `idleAt`) implements the same call; it is `async` so
/// such a store can wait on the network.
package protocol LimiterStore: Sendable {
    func decide(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) async throws -> [LimitDecision]
    /// The state of `key` under each limit that has one, without charging anything.
    func peek(_ key: String, limits: [CompiledLimit], now: Int64) async throws -> [LimitDecision]
    /// The decision made at once, without suspending; nil for a store that must ask elsewhere
    /// (the event-loop path then passes the request to the streaming path).
    func decideNow(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) -> [LimitDecision]?
    /// The decision of a store that must ask elsewhere, as a future completed on `loop` (the
    /// event-loop path then waits for it without a task); nil for a store that has no such call.
    func decide(
        _ key: String, limit: CompiledLimit, cost: Int, now: Int64, on loop: any EventLoop
    ) -> EventLoopFuture<[LimitDecision]>?
}

extension LimiterStore {
    package func decideNow(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) -> [LimitDecision]? { nil }
    package func decide(
        _ key: String, limit: CompiledLimit, cost: Int, now: Int64, on loop: any EventLoop
    ) -> EventLoopFuture<[LimitDecision]>? { nil }
}

/// Limit state in memory: sharded dictionaries behind locks, with idle keys swept out.
///
/// An entry is idle once it holds nothing a fresh one would not (the GCRA arrival time and the
/// windows have passed). Each shard sweeps its idle entries every 4,096 decisions and whenever
/// it passes its share of `maxKeys`; if a sweep frees too little, the oldest-idle entries go.
package final class InMemoryLimiterStore: LimiterStore {
    struct Key: Hashable, Sendable {
        let limit: Int
        let value: String
    }

    struct Shard {
        var entries: [Key: CompiledLimit.Entry] = [:]
        var decisions = 0
    }

    final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [ShardBox]
    private let perShard: Int

    /// The most keys held (each key part a client chooses is at most `RequestKey.maximumPartBytes`).
    package var maximumKeys: Int { perShard * shards.count }

    package init(maxKeys: Int = 1_000_000, shards: Int = 64) {
        self.shards = (0..<shards).map { _ in ShardBox() }
        self.perShard = max(16, maxKeys / shards)
    }

    package func decide(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) -> [LimitDecision] {
        let key = Key(limit: limit.id, value: key)
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.state.withLock { shard in
            shard.decisions += 1
            if shard.decisions & 4095 == 0 || shard.entries.count >= perShard { sweep(&shard, now: now) }
            return limit.apply(to: &shard.entries[key, default: CompiledLimit.Entry()], cost: cost, now: now)
        }
    }

    package func decideNow(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) -> [LimitDecision]? {
        decide(key, limit: limit, cost: cost, now: now)
    }

    package func peek(_ key: String, limits: [CompiledLimit], now: Int64) -> [LimitDecision] {
        var result: [LimitDecision] = []
        for limit in limits {
            let key = Key(limit: limit.id, value: key)
            let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
            guard var entry = shard.state.withLock({ $0.entries[key] }) else { continue }
            result += limit.apply(to: &entry, cost: 0, now: now)
        }
        return result
    }

    /// How many keys are held.
    package var count: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.entries.count } } }

    private func sweep(_ shard: inout Shard, now: Int64) {
        shard.entries = shard.entries.filter { $0.value.idleAt > now }
        guard shard.entries.count >= perShard else { return }
        // Still full of live keys: drop the ones that would be idle soonest.
        let keep = perShard * 3 / 4
        let sorted = shard.entries.sorted { $0.value.idleAt > $1.value.idleAt }.prefix(keep)
        shard.entries = Dictionary(uniqueKeysWithValues: sorted.map { ($0.key, $0.value) })
    }
}
