import Logging
import ServiceLifecycle
import Synchronization

/// Runs services for the length of a closure, then shuts them down gracefully.
package enum ServiceRunner {
    /// Starts `services` in a service group, runs `body`, then triggers graceful shutdown and waits.
    package static func with<T: Sendable>(
        _ services: [any Service],
        logger: Logger = Logger(label: "portico.test"),
        _ body: () async throws -> T
    ) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: T
            do {
                result = try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}

/// A port reported by a listener once it is bound (listeners in tests bind port 0).
package final class BoundPort: Sendable {
    private let value = Mutex<Int?>(nil)

    package init() {}

    package func set(_ port: Int) { value.withLock { $0 = port } }

    /// Waits up to 10 seconds for the port.
    package func wait() async throws -> Int {
        for _ in 0..<1000 {
            if let port = value.withLock({ $0 }) { return port }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestingError("listener did not start within 10 seconds")
    }
}

/// A failure of the test helpers themselves.
package struct TestingError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
