import Foundation
import Logging
import NIOCore
import PorticoConfig
import PorticoRedis
import Synchronization

/// Limit state in Redis, shared by every node: one script run per decision (`LimitScript`),
/// pipelined over the client's connections, with each key expiring when it would be idle.
///
/// When Redis cannot answer (down, slow past `limits.store.timeout`, refusing), each limit does
/// what its `on-store-failure` says: `allow` lets the request through uncounted, `deny` answers
/// 503, `local` counts it in this node's memory (`fallback`) until Redis answers again. The
/// client reconnects by itself with back-off; `health` says what `/admin/status` shows.
package final class RedisLimiterStore: LimiterStore {
    package let client: RedisClient
    let prefix: [UInt8]
    /// This node's counters for `on-store-failure: local`.
    package let fallback: InMemoryLimiterStore
    package let health = StoreHealth()
    /// Whether decisions have failed since Redis last answered: read without a lock on every
    /// decision, so that only a recovery takes the health lock.
    private let degraded = Atomic<Bool>(false)
    private let logger: Logger

    /// What the store has been through, for `/admin/status` and the metrics.
    package final class StoreHealth: Sendable {
        struct State {
            var degradedSince: Date?
            var lastError: String?
            var failures = [StoreFailureMode: Int]()
        }
        let state = Mutex(State())

        /// Since when decisions have failed (nil while Redis answers).
        package var degradedSince: Date? { state.withLock { $0.degradedSince } }
        package var lastError: String? { state.withLock { $0.lastError } }
        /// Decisions made without Redis, by the rule that made them.
        package var failures: [StoreFailureMode: Int] { state.withLock { $0.failures } }
    }

    package init(client: RedisClient, prefix: String, fallbackKeys: Int, logger: Logger) {
        self.client = client
        self.prefix = Array(prefix.utf8)
        self.fallback = InMemoryLimiterStore(maxKeys: fallbackKeys)
        self.logger = logger
    }

    func key(_ value: String, limit: CompiledLimit) -> [UInt8] {
        prefix + Array("\(UInt64(bitPattern: Int64(limit.id))):".utf8) + Array(value.utf8)
    }

    package func decide(_ key: String, limit: CompiledLimit, cost: Int, now: Int64) async throws -> [LimitDecision] {
        let reply: RESPValue
        do {
            reply = try await client.run(
                LimitScript.script, keys: [self.key(key, limit: limit)],
                arguments: LimitScript.arguments(limit: limit, cost: cost, now: now)
            ).get()
        } catch {
            return try failed(error, key: key, limit: limit, cost: cost, now: now)
        }
        return try decisions(from: reply, key: key, limit: limit, cost: cost, now: now)
    }

    /// The same decision as a future on `loop`: the script runs on that loop's connection when
    /// it is up, so its answer needs no hop.
    package func decide(
        _ key: String, limit: CompiledLimit, cost: Int, now: Int64, on loop: any EventLoop
    ) -> EventLoopFuture<[LimitDecision]>? {
        client.run(
            LimitScript.script, keys: [self.key(key, limit: limit)],
            arguments: LimitScript.arguments(limit: limit, cost: cost, now: now)
        )
        .hop(to: loop)
        .flatMapThrowing { reply in try self.decisions(from: reply, key: key, limit: limit, cost: cost, now: now) }
        .flatMapErrorThrowing { error in
            // `decisions` throws only after `failed` decided, and `failed` throws only a GatewayError.
            if error is GatewayError { throw error }
            return try self.failed(error, key: key, limit: limit, cost: cost, now: now)
        }
    }

    /// The decisions that the script's `reply` says; a reply that cannot be read counts as a
    /// failure of the store.
    private func decisions(
        from reply: RESPValue, key: String, limit: CompiledLimit, cost: Int, now: Int64
    ) throws -> [LimitDecision] {
        do {
            var (charged, entry) = try LimitScript.entry(from: reply)
            recovered()
            let decisions = limit.apply(to: &entry, cost: cost, now: now)
            if charged != decisions.allSatisfy(\.allowed) {
                // The script and `apply` disagree: a bug, not a client's doing; the script's state stands.
                logger.error(
                    "the Redis limit script and the node decided differently", metadata: ["limit": "\(limit.name)"])
            }
            return decisions
        } catch {
            return try failed(error, key: key, limit: limit, cost: cost, now: now)
        }
    }

    /// The state in Redis; while Redis cannot answer, this node's local counters (what
    /// `on-store-failure: local` has counted), so the portal's usage page still answers.
    package func peek(_ key: String, limits: [CompiledLimit], now: Int64) async throws -> [LimitDecision] {
        var result: [LimitDecision] = []
        for limit in limits {
            let command = RESPCommand(
                [Array("HMGET".utf8), self.key(key, limit: limit)] + LimitScript.fields.map { Array($0.utf8) })
            let values: [RESPValue]
            do {
                values = try await client.send(command).get().elements ?? []
                guard values.count == LimitScript.fields.count else {
                    throw RedisError.protocolViolation("an unexpected reply to HMGET")
                }
            } catch {
                result += fallback.peek(key, limits: [limit], now: now)
                continue
            }
            guard values.contains(where: { $0 != .null }) else { continue }
            var (_, entry) = try LimitScript.entry(from: .array([.integer(0)] + values))
            result += limit.apply(to: &entry, cost: 0, now: now)
        }
        return result
    }

    private func failed(
        _ error: any Error, key: String, limit: CompiledLimit, cost: Int, now: Int64
    ) throws -> [LimitDecision] {
        let mode = limit.onStoreFailure
        let first = health.state.withLock { state -> Bool in
            let first = state.degradedSince == nil
            if first { state.degradedSince = Date() }
            state.lastError = "\(error)"
            state.failures[mode, default: 0] += 1
            return first
        }
        degraded.store(true, ordering: .relaxed)
        if first {
            logger.warning("rate-limit store failing; limits follow on-store-failure", metadata: ["error": "\(error)"])
        }
        switch mode {
        case .allow: return []
        case .deny: throw GatewayError.limitStoreUnavailable
        case .local: return fallback.decide(key, limit: limit, cost: cost, now: now)
        }
    }

    private func recovered() {
        guard degraded.exchange(false, ordering: .relaxed) else { return }
        let was = health.state.withLock { state -> Date? in
            defer { state.degradedSince = nil }
            return state.degradedSince
        }
        if let was {
            logger.notice(
                "rate-limit store answering again", metadata: ["degraded_s": "\(Int(Date().timeIntervalSince(was)))"])
        }
    }
}
