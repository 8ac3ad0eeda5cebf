/// When the config watcher reloads: the decisions of `ConfigWatcher`, without its clock or files.
///
/// The owner polls the watched files' fingerprints, hands them to `poll`, and does what the
/// answer says: sleep for the given time and poll again, or reload and then call `reloaded`.
/// A change reloads only once the files have stopped changing for one `settle` period (bounded
/// by `maximumSettles`, so a file rewritten forever still reloads), so an editor that saves in
/// several steps causes one reload, not several half-written ones.
struct ConfigWatch<Fingerprint: Equatable> {
    enum Action: Equatable {
        /// Poll again after this long.
        case sleep(Duration)
        /// Reload now, then call `reloaded(with:)`.
        case reload
    }

    private enum State {
        case watching(known: Fingerprint)
        case settling(last: Fingerprint, rounds: Int)
        case reloading
    }

    let interval: Duration
    let settle: Duration
    let maximumSettles: Int
    private var state: State

    init(known: Fingerprint, interval: Duration, settle: Duration, maximumSettles: Int = 20) {
        self.interval = interval
        self.settle = settle
        self.maximumSettles = maximumSettles
        self.state = .watching(known: known)
    }

    /// What to do after polling and finding `current`.
    mutating func poll(_ current: Fingerprint) -> Action {
        switch state {
        case .watching(let known):
            guard current != known else { return .sleep(interval) }
            state = .settling(last: current, rounds: 0)
            return .sleep(settle)
        case .settling(let last, let rounds):
            if current == last || rounds + 1 >= maximumSettles {
                state = .reloading
                return .reload
            }
            state = .settling(last: current, rounds: rounds + 1)
            return .sleep(settle)
        case .reloading:
            // Polled before `reloaded`: treat as still reloading.
            return .sleep(interval)
        }
    }

    /// The reload is done; later polls compare with `fingerprint`, what the reload read (so a
    /// write during the reload is not missed).
    mutating func reloaded(with fingerprint: Fingerprint) {
        state = .watching(known: fingerprint)
    }

    /// The first sleep, before any poll.
    var firstSleep: Duration { interval }
}
