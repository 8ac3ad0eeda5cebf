import Synchronization

/// The port of the listener a `redirect-https` listener sends clients to, once it is bound
/// (the config may say 0).
final class HTTPSPort: Sendable {
    private let value: Atomic<Int>

    init(_ port: Int) { value = Atomic(port) }

    var port: Int {
        get { value.load(ordering: .relaxed) }
        set { value.store(newValue, ordering: .relaxed) }
    }
}
