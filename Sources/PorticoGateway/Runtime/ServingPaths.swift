import Synchronization

/// How many requests each path served, for `/admin/status`: the event-loop path, and the
/// streaming path it passes the others on to (counted at the head; pipelined requests passed
/// on while the streaming path is busy are not counted).
package final class ServingPaths: Sendable {
    package let eventLoop = Atomic<Int>(0)
    package let streaming = Atomic<Int>(0)

    package init() {}
}
