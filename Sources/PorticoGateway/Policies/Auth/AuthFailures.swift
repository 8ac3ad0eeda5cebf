import PorticoStore
import Synchronization

/// Failed authentications per client address and per consumer name, in fixed one-minute
/// windows, so that guessing is refused (429) before any password is hashed.
///
/// Shared by every snapshot (it lives in the `AuthContext`). Each table holds at most
/// `maximumEntries` keys of at most `CallRecord.maximumNameBytes` each; when a table is full,
/// windows that have ended are swept, and if none has, the oldest half is dropped.
package final class AuthFailures: Sendable {
    let perAddress: Int
    let perConsumer: Int
    /// The window in nanoseconds of `clock`.
    let window: Int64
    let maximumEntries: Int
    private let clock: @Sendable () -> Int64
    private let tables = Mutex<Tables>(Tables())

    struct Tables {
        var byAddress: [String: Count] = [:]
        var byConsumer: [String: Count] = [:]
    }

    struct Count {
        var start: Int64
        var failures: Int
    }

    package init(
        perAddress: Int = 30, perConsumer: Int = 10, window: Duration = .seconds(60), maximumEntries: Int = 50_000,
        clock: @escaping @Sendable () -> Int64 = LimitContext.wallClockNanoseconds
    ) {
        self.perAddress = perAddress
        self.perConsumer = perConsumer
        self.window = window.components.seconds * 1_000_000_000
        self.maximumEntries = maximumEntries
        self.clock = clock
    }

    /// Seconds until `address` (or `consumer`) may try again, or nil when it may now.
    package func retryAfter(address: String?, consumer: String? = nil) -> Int? {
        let now = clock()
        return tables.withLock { tables in
            var wait: Int64 = 0
            if let address, let count = tables.byAddress[address], now - count.start < window,
                count.failures >= perAddress
            {
                wait = max(wait, count.start + window - now)
            }
            if let consumer, let count = tables.byConsumer[consumer], now - count.start < window,
                count.failures >= perConsumer
            {
                wait = max(wait, count.start + window - now)
            }
            return wait > 0 ? Int((wait + 999_999_999) / 1_000_000_000) : nil
        }
    }

    /// Counts one failed authentication against the address and, when one was named, the consumer.
    package func recordFailure(address: String?, consumer: String? = nil) {
        let now = clock()
        tables.withLock { tables in
            if let address { Self.count(&tables.byAddress, address, now: now, window: window, limit: maximumEntries) }
            if let consumer {
                Self.count(
                    &tables.byConsumer, CallRecord.bounded(consumer, to: CallRecord.maximumNameBytes), now: now,
                    window: window, limit: maximumEntries)
            }
        }
    }

    /// Keys held now, in both tables, for `/admin/status`.
    var entries: Int { tables.withLock { $0.byAddress.count + $0.byConsumer.count } }

    private static func count(_ table: inout [String: Count], _ key: String, now: Int64, window: Int64, limit: Int) {
        if var count = table[key], now - count.start < window {
            count.failures += 1
            table[key] = count
            return
        }
        if table.count >= limit {
            table = table.filter { now - $0.value.start < window }
            if table.count >= limit {
                let kept = table.sorted { $0.value.start > $1.value.start }.prefix(limit / 2)
                table = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
            }
        }
        table[key] = Count(start: now, failures: 1)
    }
}
