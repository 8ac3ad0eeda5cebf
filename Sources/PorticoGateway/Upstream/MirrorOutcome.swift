import Synchronization

/// How a mirrored copy of a request went, once it has: the call record waits for it, so the
/// record of the real request says what the mirror answered without the client waiting.
package final class MirrorOutcome: Sendable {
    private let state = Mutex<(text: String?, waiters: [@Sendable (String) -> Void])>((nil, []))

    /// Done already: `skipped …` when the copy was not sent.
    init(done text: String? = nil) {
        if let text { state.withLock { $0.text = text } }
    }

    /// Records the outcome and runs whatever waited for it.
    func complete(_ text: String) {
        let waiters = state.withLock { state -> [@Sendable (String) -> Void] in
            guard state.text == nil else { return [] }
            state.text = text
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter(text) }
    }

    /// Runs `action` with the outcome, now or when it is known.
    func whenDone(_ action: @escaping @Sendable (String) -> Void) {
        let done = state.withLock { state -> String? in
            if state.text == nil { state.waiters.append(action) }
            return state.text
        }
        if let done { action(done) }
    }
}
