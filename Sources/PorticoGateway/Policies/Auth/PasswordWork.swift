import NIOCore
import NIOPosix
import Synchronization

/// The threads that derive PBKDF2 hashes (basic auth, portal sign-up and sign-in), apart from
/// the blocking pool that reloads and DNS use, and with a bounded queue: when `maximumWaiting`
/// derivations are waiting, more are refused at once instead of piling up behind a flood of
/// guesses.
package final class PasswordWork: Sendable {
    /// The process's pool: one thread per two cores, at least one.
    package static let shared = PasswordWork(threads: max(1, System.coreCount / 2), maximumWaiting: 64)

    let maximumWaiting: Int
    private let pool: NIOThreadPool
    private let waiting = Atomic<Int>(0)

    /// Thrown when the queue is full.
    package struct Busy: Error {}

    init(threads: Int, maximumWaiting: Int) {
        self.maximumWaiting = maximumWaiting
        self.pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Derivations queued or running now.
    package var inUse: Int { waiting.load(ordering: .relaxed) }

    /// Runs `work` on the pool, or throws `Busy` when too many derivations wait already.
    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let queued = waiting.wrappingAdd(1, ordering: .relaxed).newValue
        defer { waiting.subtract(1, ordering: .relaxed) }
        guard queued <= maximumWaiting else { throw Busy() }
        return try await pool.runIfActive(work)
    }
}
