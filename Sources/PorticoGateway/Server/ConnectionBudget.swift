import Synchronization

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Open client connections, in all and per client address, against their caps.
///
/// A connection over either cap is answered 503 and closed as soon as it is accepted, so the
/// process never runs out of file descriptors (it raises its soft limit to the hard one at start
/// and, by default, caps connections at 80 % of it). The per-address table has one entry per
/// address with open connections, so it is bounded by the total cap.
package final class ConnectionBudget: Sendable {
    package let maximum: Int
    package let maximumPerAddress: Int
    private let state = Mutex<State>(State())

    struct State {
        var open = 0
        var refused = 0
        var byAddress: [String: Int] = [:]
    }

    package init(maximum: Int, maximumPerAddress: Int) {
        self.maximum = max(1, maximum)
        self.maximumPerAddress = max(1, maximumPerAddress)
    }

    /// Takes a place for a connection from `address`; false when a cap is reached.
    func admit(_ address: String?) -> Bool {
        state.withLock { state in
            let key = address ?? ""
            let fromAddress = state.byAddress[key] ?? 0
            guard state.open < maximum, fromAddress < maximumPerAddress else {
                state.refused += 1
                return false
            }
            state.open += 1
            state.byAddress[key] = fromAddress + 1
            return true
        }
    }

    /// Gives back the place `admit` took.
    func release(_ address: String?) {
        state.withLock { state in
            let key = address ?? ""
            state.open -= 1
            let left = (state.byAddress[key] ?? 1) - 1
            state.byAddress[key] = left > 0 ? left : nil
        }
    }

    /// Connections open now, addresses with connections, and connections refused since start.
    package var report: (open: Int, addresses: Int, refused: Int) {
        state.withLock { ($0.open, $0.byAddress.count, $0.refused) }
    }

    /// The soft file-descriptor limit after raising it to the hard limit (`RLIMIT_NOFILE`).
    package static func raiseFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The default cap for a soft limit of `descriptors`: 80 %, leaving room for upstream
    /// connections, the store, logs and the config watcher.
    package static func defaultMaximum(descriptors: Int) -> Int {
        max(16, descriptors / 10 * 8)
    }
}
