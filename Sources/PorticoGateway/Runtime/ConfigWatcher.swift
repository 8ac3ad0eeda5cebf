import Foundation
import Logging
import ServiceLifecycle

/// Reloads when the config file or a document it names changes.
///
/// Polls each file's modification time, size and inode; `ConfigWatch` decides when a change
/// has settled enough to reload.
package struct ConfigWatcher: Service {
    let runtime: GatewayRuntime
    let interval: Duration
    let settle: Duration
    let logger: Logger

    package init(runtime: GatewayRuntime, interval: Duration, settle: Duration = .milliseconds(150), logger: Logger) {
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

    package func run() async throws {
        await cancelWhenGracefulShutdown { await watch() }
    }

    private func watch() async {
        var files = runtime.watchedFiles
        var watch = ConfigWatch(known: Self.fingerprints(files), interval: interval, settle: settle)
        var sleep = watch.firstSleep
        var lastPolled = Self.fingerprints(files)
        while !Task.isCancelled {
            try? await Task.sleep(for: sleep)
            if Task.isCancelled { break }
            lastPolled = Self.fingerprints(files)
            switch watch.poll(lastPolled) {
            case .sleep(let duration):
                sleep = duration
            case .reload:
                await runtime.reload(trigger: "file")
                let watched = runtime.watchedFiles
                watch.reloaded(with: watched == files ? lastPolled : Self.fingerprints(watched))
                files = watched
                sleep = interval
            }
        }
    }
}
