import Foundation
import Logging
import ServiceLifecycle

/// Reloads when the config file or a document it names changes.
///
/// Polls each file's modification time, size and inode. A change starts a reload only once the
/// files have stopped changing for one `settle` period, so an editor writing in several steps
/// causes one reload, not several half-written ones.
public struct ConfigWatcher: Service {
    let runtime: GatewayRuntime
    let interval: Duration
    let settle: Duration
    let logger: Logger

    public init(runtime: GatewayRuntime, interval: Duration, settle: Duration = .milliseconds(150), logger: Logger) {
        self.runtime = runtime
        self.interval = interval
        self.settle = settle
        self.logger = logger
    }

    /// What identifies one version of a file; nil when the file is missing.
    struct Fingerprint: Equatable {
        var modified: timespec
        var size: off_t
        var inode: ino_t

        static func == (lhs: Fingerprint, rhs: Fingerprint) -> Bool {
            lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
                && lhs.size == rhs.size && lhs.inode == rhs.inode
        }
    }

    static func fingerprints(_ files: [String]) -> [Fingerprint?] {
        files.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Fingerprint(modified: info.st_mtim, size: info.st_size, inode: info.st_ino)
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await watch() }
    }

    private func watch() async {
        var files = runtime.watchedFiles
        var known = Self.fingerprints(files)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard Self.fingerprints(files) != known else { continue }
            // Wait for the writes to stop, bounded so a file rewritten forever still reloads.
            var last = Self.fingerprints(files)
            for _ in 0..<20 {
                try? await Task.sleep(for: settle)
                let again = Self.fingerprints(files)
                if again == last { break }
                last = again
            }
            if Task.isCancelled { break }
            await runtime.reload(trigger: "file")
            // Compare later polls with what the reload read, so a write during the reload is not missed.
            let watched = runtime.watchedFiles
            known = watched == files ? last : Self.fingerprints(watched)
            files = watched
        }
    }
}
