import Foundation
import PorticoConfig
import PorticoTesting
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for a test: a new cluster (`initdb`, trust authentication for the
/// user `portico`) in a temporary folder, listening on 127.0.0.1 and a free port, stopped by its
/// PID. As root (CI), the server runs as the `postgres` user that Debian's package creates, since
/// PostgreSQL refuses to run as root. `scripts/install-deps.sh test` installs `postgresql`.
final class PostgresServer: Sendable {
    let port: Int
    let folder: String
    private let process = Mutex<ChildProcess?>(nil)
    private let databases = Atomic<Int>(0)

    init() async throws {
        guard let bin = Self.binaries else {
            throw TestingError(
                "PostgreSQL's initdb and postgres are not installed; run scripts/install-deps.sh test (Debian's postgresql)"
            )
        }
        folder = try GatewayHarness.makeTemporaryFolder()
        port = try RedisServer.freePort()
        let data = folder + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        if Self.asRoot { try Self.giveToPostgres(folder) }
        let log = folder + "/initdb.log"
        let initdb = try Self.spawn(
            bin + "/initdb", ["-D", data, "-U", "portico", "--auth=trust", "-E", "UTF8", "--no-sync"], log: log)
        guard initdb.waitUntilExit() == 0 else {
            throw TestingError("initdb failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        try await start()
    }

    static var binaries: String? {
        let candidates = [
            "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/local/bin",
            "/usr/bin",
        ]
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
                && FileManager.default.isExecutableFile(atPath: $0 + "/postgres")
        }
    }

    static var asRoot: Bool { getuid() == 0 }

    /// Runs a PostgreSQL program, as the `postgres` user when this process is root.
    private static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> ChildProcess {
        if asRoot {
            return try ChildProcess(
                "/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments, outputFile: log, errorFile: log)
        }
        return try ChildProcess(executable, arguments, outputFile: log, errorFile: log)
    }

    private static func giveToPostgres(_ folder: String) throws {
        guard let user = getpwnam("postgres") else {
            throw TestingError("there is no postgres user (Debian's postgresql package makes it)")
        }
        for path in [folder, folder + "/data"] { chown(path, user.pointee.pw_uid, user.pointee.pw_gid) }
    }

    /// Starts the server (again, after `stop()`) and waits until it takes connections.
    func start() async throws {
        let log = folder + "/postgres.log"
        let child = try Self.spawn(
            Self.binaries! + "/postgres",
            [
                "-D", folder + "/data", "-p", String(port), "-k", folder, "-c", "listen_addresses=127.0.0.1", "-c",
                "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
            ],
            log: log)
        process.withLock { $0 = child }
        for _ in 0..<500 {
            // Accepting a connection is not enough: while it starts up (or recovers after a stop) the
            // server refuses sessions ("the database system is starting up"); pg_isready says 0 only
            // once it takes them.
            if FileManager.default.fileExists(atPath: folder + "/.s.PGSQL.\(port)"), Self.accepts(port: port),
                Self.takesSessions(port: port)
            {
                return
            }
            if child.hasExited { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestingError(
            "postgres did not start: \(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(800))")
    }

    private static func takesSessions(port: Int) -> Bool {
        guard
            let check = try? ChildProcess(
                binaries! + "/pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port)], outputFile: "/dev/null",
                errorFile: "/dev/null")
        else { return false }
        return check.waitUntilExit() == 0
    }

    /// The server's PID, from `postmaster.pid` (runuser is its parent when this process is root).
    private var serverPID: pid_t? {
        guard let text = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8) else {
            return nil
        }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Stops the server (fast shutdown: SIGINT to its PID) and waits for it to end.
    func stop() {
        guard
            let child = process.withLock({ current -> ChildProcess? in
                defer { current = nil }
                return current
            })
        else { return }
        if let pid = serverPID { kill(pid, SIGINT) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !child.hasExited { usleep(10_000) }
        if !child.hasExited, let pid = serverPID { kill(pid, SIGKILL) }
        _ = child.waitUntilExit()
    }

    func close() {
        stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A new empty database on this server, as a URL.
    func database() async throws -> PostgresURL {
        let name = "portico_test_\(databases.wrappingAdd(1, ordering: .relaxed).newValue)"
        let log = folder + "/createdb.log"
        let createdb = try Self.spawn(
            Self.binaries! + "/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "portico", name], log: log)
        guard createdb.waitUntilExit() == 0 else {
            throw TestingError("createdb failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return try PostgresURL(parsing: "postgres://portico@127.0.0.1:\(port)/\(name)?sslmode=disable")
    }

    static func accepts(port: Int) -> Bool {
        guard let socket = RedisServer.connect(port: port) else { return false }
        Glibc.close(socket)
        return true
    }
}
