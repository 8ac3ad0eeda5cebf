import Synchronization

/// Request coalescing: the first miss for a key fetches (the leader); the misses for the same key
/// that arrive meanwhile wait for it to land (the response stored, or found not storable) and then
/// look in the store again.
final class CacheFlights: Sendable {
    private let flights = Mutex<[String: Flight]>([:])

    /// One fetch in progress and the requests waiting for it.
    final class Flight: Sendable {
        private let state = Mutex<(landed: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        /// Returns once the flight has landed.
        func wait() async {
            await withCheckedContinuation { continuation in
                let landed = state.withLock { state -> Bool in
                    if !state.landed { state.waiters.append(continuation) }
                    return state.landed
                }
                if landed { continuation.resume() }
            }
        }

        /// Wakes every waiter; only the first call does anything.
        fileprivate func land() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                guard !state.landed else { return [] }
                state.landed = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    enum Role {
        case leader(Flight)
        case follower(Flight)
    }

    /// Joins the flight for `key`, starting it if there is none.
    func join(_ key: String) -> Role {
        flights.withLock { flights in
            if let flight = flights[key] { return .follower(flight) }
            let flight = Flight()
            flights[key] = flight
            return .leader(flight)
        }
    }

    /// Starts a flight for `key` only if none is under way: nil when one is.
    func startIfIdle(_ key: String) -> Flight? {
        if case .leader(let flight) = join(key) { return flight }
        return nil
    }

    /// Ends `flight` and releases its waiters; safe to call more than once.
    func land(_ key: String, _ flight: Flight) {
        flights.withLock { flights in
            if flights[key] === flight { flights[key] = nil }
        }
        flight.land()
    }
}
