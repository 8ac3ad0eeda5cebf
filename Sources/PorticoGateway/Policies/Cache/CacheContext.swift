import Foundation

/// The cache state every snapshot shares, so entries survive reloads: the store, the flights
/// that coalesce misses, the background refreshes, and the clock ages are measured with.
package final class CacheContext: Sendable {
    package let store: CacheStore
    /// Composite endpoints' backend answers (`cache: true` on a call), kept across reloads.
    package let backends = BackendCache()
    let flights = CacheFlights()
    /// One background revalidation per key at a time.
    let refreshes = CacheFlights()
    let refresher = CacheRefresher()
    let clock: @Sendable () -> Date

    package init(budget: Int, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = CacheStore(budget: budget)
        self.clock = clock
    }

    /// Runs the background refreshes; the runtime's `run()` calls it.
    func runRefresher() async {
        await refresher.run()
    }
}
