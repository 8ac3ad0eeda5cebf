import Foundation
import PorticoRedis
import PorticoTesting
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real `redis-server` for a test, on 127.0.0.1 and a free port, with its data in a temporary
/// folder; stopped by its PID. `scripts/install-deps.sh test` installs Debian's `redis-server`.
final class RedisServer: Sendable {
    let port: Int
    let folder: String
    let arguments: [String]
    private let process: Mutex<ChildProcess?>

    var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts a server; `arguments` are extra `redis-server` options (`--requirepass`, …).
    init(arguments: [String] = []) async throws {
        folder = try GatewayHarness.makeTemporaryFolder()
        port = try Self.freePort()
        self.arguments = arguments
        process = Mutex(nil)
        try await start()
    }

    static var executable: String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        where FileManager.default.isExecutableFile(atPath: directory + "/redis-server") {
            return directory + "/redis-server"
        }
        return nil
    }

    /// Starts the server (again, after `stop()`, on the same port) and waits until it answers PING.
    func start() async throws {
        guard let executable = Self.executable else {
            throw TestingError(
                "redis-server is not installed; run scripts/install-deps.sh test (Debian's redis-server)")
        }
        let log = folder + "/redis.log"
        let child = try ChildProcess(
            executable,
            [
                "--port", String(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly", "no",
                "--protected-mode", "no",
            ]
                + arguments,
            outputFile: log, errorFile: log)
        process.withLock { $0 = child }
        for _ in 0..<250 {
            if (try? Self.ping(port: port)) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw TestingError("redis-server did not start on port \(port): \(output.suffix(600))")
    }

    /// Stops the server with SIGTERM (SIGKILL after 5 s) and waits for it to end.
    func stop() {
        guard
            let child = process.withLock({ current -> ChildProcess? in
                defer { current = nil }
                return current
            })
        else { return }
        kill(child.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !child.hasExited { usleep(10_000) }
        if !child.hasExited { kill(child.processIdentifier, SIGKILL) }
        _ = child.waitUntilExit()
    }

    /// Stops the server and removes its folder.
    func close() {
        stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Whether a plain TCP connection gets `+PONG` (or an auth error: the server is up) to `PING`.
    static func ping(port: Int) throws -> Bool {
        guard let socket = connect(port: port) else { return false }
        defer { Glibc.close(socket) }
        let ping = "PING\r\n"
        _ = ping.withCString { Glibc.send(socket, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        let reply = String(decoding: buffer[0..<count], as: UTF8.self)
        return reply.hasPrefix("+PONG") || reply.hasPrefix("-NOAUTH")
    }

    /// A TCP socket connected to 127.0.0.1:`port`, or nil when nothing listens there.
    static func connect(port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(socket)
            return nil
        }
        return socket
    }

    /// A port nothing listens on now, for a server started by a test. It is taken below the
    /// kernel's ephemeral range (32768–60999 by default), where no outgoing connection's source
    /// port and no listener on port 0 lands: a port from that range, released and handed to a
    /// server started a moment later, was once taken in between by another test's connection
    /// ("Address already in use"), and a server that restarts on its port needs it kept free.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_768)
            if try bindable(candidate) == candidate { return candidate }
        }
        guard let any = try bindable(0) else { throw TestingError("no free port on 127.0.0.1") }
        return any
    }

    /// Binds `port` (0: any) on 127.0.0.1 and releases it; the port bound, or nil if it is taken.
    private static func bindable(_ port: Int) throws -> Int? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Int32 in
                guard Glibc.bind(socket, address, length) == 0 else { return -1 }
                return getsockname(socket, address, &length)
            }
        }
        guard bound == 0 else {
            if port != 0, errno == EADDRINUSE { return nil }
            throw TestingError("no free port: \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
