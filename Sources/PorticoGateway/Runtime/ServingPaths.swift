import Synchronization

/// How many requests each path served, for `/admin/status`: the event-loop path, and the
/// streaming path it passes the others on to (counted at the head; pipelined requests passed
/// on while the streaming path is busy are not counted).
public final class ServingPaths: Sendable {
    public let eventLoop = Atomic<Int>(0)
    public let streaming = Atomic<Int>(0)

    public init() {}
}
