/// Runs the cache's background work (stale-while-revalidate refreshes, storing a body after
/// answering 304) in a task group that lives as long as the gateway's runtime.
final class CacheRefresher: Sendable {
    typealias Job = @Sendable () async -> Void
    private let jobs: AsyncStream<Job>
    private let post: AsyncStream<Job>.Continuation

    /// At most `limit` jobs wait; beyond that `submit` refuses and the caller goes without.
    init(limit: Int = 1024) {
        (jobs, post) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(limit))
    }

    /// Queues `job`; false when the queue is full.
    func submit(_ job: @escaping Job) -> Bool {
        if case .enqueued = post.yield(job) { return true }
        return false
    }

    /// Runs queued jobs until the task is cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }
}
