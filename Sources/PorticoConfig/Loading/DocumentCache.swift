import Foundation
import Synchronization

/// The OpenAPI documents of the last loads, kept so that a reload whose documents did not change
/// (the usual case: `gateway.yaml` edited) reuses their import instead of parsing megabytes again.
///
/// An entry is reused only when every file the document was read from has the same bytes (each
/// is read and hashed, a few milliseconds for a 4 MB document) and the import's inputs are the
/// same (paths, environment, the auth methods its security schemes map onto). Documents that
/// failed to import are not kept. At most `capacity` entries and `maximumBytes` of files (the
/// trees kept are a few times that); past either the cache starts over.
enum DocumentCache {
    struct Key: Hashable {
        var path: String
        var writtenAs: String
        var file: String
        var folder: String
        var displayFolder: String
        var environment: [String: String]
        var authMethods: [AuthMethodConfig]
    }

    private struct Entry {
        var files: [(path: String, hash: UInt64)]
        var bytes: Int
        var document: ConfigLoader.Reader.ImportedDocument
    }

    static let capacity = 256
    static let maximumBytes = 128 * 1024 * 1024
    private static let entries = Mutex<[Key: Entry]>([:])

    /// The cached import for `key`, when none of its files changed.
    static func lookup(_ key: Key) -> ConfigLoader.Reader.ImportedDocument? {
        guard let entry = entries.withLock({ $0[key] }) else { return nil }
        for file in entry.files {
            guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
            var hash = ContentHash()
            hash.combine(data)
            guard hash.value == file.hash else { return nil }
        }
        return entry.document
    }

    /// Keeps a successful import with the hashes of its files as they are now.
    static func store(_ document: ConfigLoader.Reader.ImportedDocument, for key: Key) {
        guard let spec = document.spec, document.diagnostics.isEmpty else { return }
        var files: [(path: String, hash: UInt64)] = []
        var bytes = 0
        for path in spec.document.files {
            guard let data = FileManager.default.contents(atPath: path) else { return }
            var hash = ContentHash()
            hash.combine(data)
            files.append((path, hash.value))
            bytes += data.count
        }
        entries.withLock { entries in
            entries[key] = nil
            let held = entries.values.reduce(0) { $0 + $1.bytes }
            if entries.count >= capacity || held + bytes > maximumBytes { entries.removeAll() }
            entries[key] = Entry(files: files, bytes: bytes, document: document)
        }
    }
}
