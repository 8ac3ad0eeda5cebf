import Foundation
import PorticoTesting
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, for the tests that run the `portico` binary or
/// `openssl`.
///
/// Foundation's `Process.run()` is not used: on Linux it reads `/proc/self/fd` with a 256-byte
/// copy of each `dirent` and crashes now and then when a record ends at a page boundary
/// (swift-corelibs-foundation #5472). The test process holds many descriptors, so the suite hit it
/// about one run in five.
///
/// Standard output and standard error go to files (the same file if asked), so a test can read
/// them while the child runs. Every other descriptor is closed in the child, as `Process` does:
/// a child holding a copy of one of this process's sockets would keep that connection open after
/// the test closed it (no FIN reaches the peer). Standard input is `input`, from a file written first (no pipe, so
/// no descriptor of this process can leak into a child spawned at the same moment), or
/// `/dev/null`.
final class ChildProcess: Sendable {
    let processIdentifier: pid_t
    private let exit = Mutex<Int32?>(nil)

    init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        outputFile: String, errorFile: String, input: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var inputFile: String?
        if let input {
            let file = NSTemporaryDirectory() + "child-stdin-" + UUID().uuidString
            try input.write(toFile: file, atomically: false, encoding: .utf8)
            inputFile = file
        }
        defer { if let inputFile { try? FileManager.default.removeItem(atPath: inputFile) } }
        posix_spawn_file_actions_addopen(&actions, 0, inputFile ?? "/dev/null", O_RDONLY, 0)
        let flags = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, flags, 0o600)
        if errorFile == outputFile {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errorFile, flags, 0o600)
        }

        guard let closeFrom = Self.addCloseFrom else {
            throw TestingError("posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34+)")
        }
        closeFrom(&actions, 3)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        // The child starts with no signal blocked and the default handlers: a test thread's mask
        // (the lifecycle's signal handling blocks SIGTERM) would otherwise make it ignore `kill`.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw TestingError("posix_spawn \(executable): \(String(cString: strerror(status)))") }
        processIdentifier = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which the Glibc module does not
    /// import: looked up by name.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Whether the child has ended (reaped without blocking).
    var hasExited: Bool {
        exit.withLock { cached in
            if cached != nil { return true }
            var status: Int32 = 0
            guard waitpid(processIdentifier, &status, WNOHANG) == processIdentifier else { return false }
            let signal = status & 0x7f
            cached = signal == 0 ? (status >> 8) & 0xff : signal
            return true
        }
    }

    /// Waits for the child to end: its exit code, or the signal's number when a signal ended it
    /// (as Foundation's `terminationStatus`).
    func waitUntilExit() -> Int32 {
        exit.withLock { cached in
            if let cached { return cached }
            var status: Int32 = 0
            while waitpid(processIdentifier, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7f
            let code = signal == 0 ? (status >> 8) & 0xff : signal
            cached = code
            return code
        }
    }
}
