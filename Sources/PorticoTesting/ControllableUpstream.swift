import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// An upstream for failure tests that can be told to fail, hang, stop and start again.
///
/// Every path answers GET and POST with the upstream's name, unless the mode says otherwise: `failing` answers
/// 500, `hanging` waits 30 seconds. `/health` follows the mode too. It counts the requests it got.
package final class ControllableUpstream: Sendable {
    package enum Mode: Sendable {
        case normal
        case failing
        case hanging
    }

    package let name: String
    private let mode = Mutex<Mode>(.normal)
    private let received = Atomic<Int>(0)
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, any Error>)?>(nil)
    private let boundPort = Mutex<Int>(0)

    /// Starts on a free port.
    package init(name: String) async throws {
        self.name = name
        try await start(port: 0)
    }

    package var port: Int { boundPort.withLock { $0 } }
    package var requestCount: Int { received.load(ordering: .relaxed) }

    package func setMode(_ newMode: Mode) { mode.withLock { $0 = newMode } }

    /// Starts listening again, on the same port as before.
    package func restart() async throws {
        try await start(port: port)
    }

    private func start(port: Int) async throws {
        let router = Router(context: BasicRequestContext.self)
        @Sendable func handle(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
            self.received.add(1, ordering: .relaxed)
            switch self.mode.withLock({ $0 }) {
            case .normal:
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: self.name)))
            case .failing:
                return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "failing")))
            case .hanging:
                try await Task.sleep(for: .seconds(30))
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: self.name)))
            }
        }
        router.get("/**", use: handle)
        router.on("/**", method: .post, use: handle)
        var logger = Logger(label: "test.upstream.\(name)")
        logger.logLevel = .critical
        let bound = BoundPort()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        running.withLock { $0 = (group, task) }
        let actual = try await bound.wait()
        boundPort.withLock { $0 = actual }
    }

    /// Stops listening; requests in flight are cut after a second.
    package func stop() async {
        guard
            let (group, task) = running.withLock({ state in
                defer { state = nil }; return state
            })
        else { return }
        await group.triggerGracefulShutdown()
        let deadline = Task {
            try await Task.sleep(for: .seconds(1))
            task.cancel()
        }
        _ = try? await task.value
        deadline.cancel()
    }
}
