import NIOCore

/// An upgraded connection (WebSocket, or any `Upgrade`): the client's channel and a channel of
/// its own to the target, glued by a `TunnelSide` in each. Each side's bytes are written to the
/// other as they arrive; a side reads only while the other can take more, so a slow reader slows
/// the writer instead of filling memory. It ends when either side closes or fails, or when no
/// byte moved either way for `idleTimeout`, and then closes both.
///
/// The upstream connection is made on the client's event loop, so both channels, both sides and
/// this object live on it (hence `@unchecked Sendable`).
final class Tunnel: @unchecked Sendable {
    let eventLoop: any EventLoop
    let idleTimeout: TimeAmount
    let client: TunnelSide
    let upstream: TunnelSide
    /// The connection to the target, once made: closed with the tunnel even before it starts.
    var upstreamChannel: (any Channel)?
    private(set) var bytesFromClient = 0
    private(set) var bytesFromUpstream = 0
    private(set) var isStarted = false
    private(set) var isEnded = false
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    /// Called once, when the tunnel ends.
    var onEnd: (() -> Void)?

    /// Bytes a side holds for the other before the tunnel starts (the target's first frames
    /// after its 101); past this the tunnel ends.
    static let pendingLimit = 1 << 20

    init(eventLoop: any EventLoop, idleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
        client = TunnelSide()
        upstream = TunnelSide()
        client.tunnel = self
        upstream.tunnel = self
    }

    func partner(of side: TunnelSide) -> TunnelSide { side === client ? upstream : client }

    /// Both sides are in their pipelines: bytes held so far cross, and reads go on.
    func start() {
        guard !isEnded, !isStarted else { return }
        isStarted = true
        lastActivity = .now()
        arm(in: idleTimeout)
        client.start()
        upstream.start()
    }

    /// `side` read `count` bytes.
    func moved(_ count: Int, from side: TunnelSide) {
        if side === client { bytesFromClient &+= count } else { bytesFromUpstream &+= count }
        lastActivity = .now()
    }

    private func arm(in delay: TimeAmount) {
        timer = eventLoop.scheduleTask(in: delay) {
            let silent = NIODeadline.now() - self.lastActivity
            if silent >= self.idleTimeout { self.end() } else { self.arm(in: self.idleTimeout - silent) }
        }
    }

    /// Closes both channels; `onEnd` is told once.
    func end() {
        guard !isEnded else { return }
        isEnded = true
        timer?.cancel()
        timer = nil
        // Told before the channels close: a close can fire the client channel's inactive event
        // at once, and the call must be recorded as a tunnel's end, not as an aborted request.
        let onEnd = self.onEnd
        self.onEnd = nil
        onEnd?()
        client.close()
        upstream.close()
        upstreamChannel?.close(promise: nil)
        upstreamChannel = nil
        // The sides and this object hold each other until here.
        client.tunnel = nil
        upstream.tunnel = nil
    }
}
