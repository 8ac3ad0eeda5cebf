import Foundation
import Logging
import PorticoApp
import PorticoConfig

/// Starts a whole gateway in-process from a YAML text, in a fresh temporary folder.
package enum GatewayHarness {
    /// A gateway started by `with(yaml:)`.
    package struct Running: Sendable {
        package let port: Int
        package let adminPort: Int?
        /// Every listener's bound port, in the order of the config's `listeners` (`listen` first).
        package let listenerPorts: [Int]
        package let folder: String
        package let app: PorticoApp
        package var baseURL: String { "http://127.0.0.1:\(port)" }
    }

    /// Writes `yaml` (and `files`, relative to the same folder) and runs the gateway for `body`.
    ///
    /// Unless the YAML says otherwise, the gateway listens on a free port, keeps its SQLite file in
    /// the folder, and writes no access log.
    package static func with<T: Sendable>(
        yaml: String,
        files: [String: String] = [:],
        wallClock: @escaping @Sendable () -> Date = { Date() },
        _ body: (Running) async throws -> T
    ) async throws -> T {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var text = yaml
        if !text.contains("listen:") || text.hasPrefix("admin:") { text = "listen: 127.0.0.1:0\n" + text }
        if !text.contains("\nstore:") && !text.hasPrefix("store:") { text += "\nstore:\n  sqlite: portico.sqlite\n" }
        if !text.contains("\nserver:") && !text.hasPrefix("server:") { text += "\nserver:\n  access-log: false\n" }
        try text.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
        for (name, contents) in files {
            let path = folder + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let config = try ConfigLoader().load(file: folder + "/gateway.yaml")
        var logger = Logger(label: "portico.test")
        logger.logLevel = .warning
        let app = try PorticoApp(config: config, logger: logger, wallClock: wallClock)
        let gatewayPort = BoundPort()
        let adminPort = BoundPort()
        let listenerPorts = (0..<max(config.listeners.count, 1)).map { _ in BoundPort() }
        let services = app.services(
            onGatewayListening: { gatewayPort.set($0) },
            onAdminListening: { adminPort.set($0) },
            onListenerListening: { index, port in if index < listenerPorts.count { listenerPorts[index].set(port) } }
        )
        return try await ServiceRunner.with(services, logger: logger) {
            let port = try await gatewayPort.wait()
            let admin = config.admin == nil ? nil : try await adminPort.wait()
            var ports: [Int] = []
            for listener in listenerPorts { ports.append(try await listener.wait()) }
            return try await body(Running(port: port, adminPort: admin, listenerPorts: ports, folder: folder, app: app))
        }
    }

    /// A new empty folder under the system's temporary folder.
    package static func makeTemporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "portico-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
