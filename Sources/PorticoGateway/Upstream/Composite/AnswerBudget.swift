import Synchronization

/// The bytes one composite request's answers may add up to (`max-merged-size`), shared by its
/// calls: each call takes its answer's size, and one that does not fit fails.
final class AnswerBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes`, or takes nothing and returns false when they do not fit.
    func take(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            let (total, overflow) = current.addingReportingOverflow(bytes)
            guard !overflow, total <= limit else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: total, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }
}
