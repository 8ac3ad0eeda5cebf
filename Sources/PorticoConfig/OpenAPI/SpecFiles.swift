import Foundation
import Yams

/// The files of one OpenAPI document: the root and every file its `$ref`s reach, each parsed
/// once with positions, so that a problem anywhere names its own file and line.
///
/// Files must lie in the root document's folder or below it (a document cannot make the gateway
/// read `/etc`); their number and total size are bounded. Every file read goes into the
/// document's content hash and the list the config watcher follows.
final class SpecFiles {
    let sink: DiagnosticSink
    let environment: EnvironmentInterpolation
    /// The root document's absolute path and the name problems give it.
    let rootPath: String
    let rootDisplay: String
    /// The root document's folder, links resolved: files must be in it or below it.
    private let rootFolder: String
    private let displayFolder: String
    /// Parsed files by absolute path; nil for one that could not be read or parsed.
    private var parsed: [String: ConfigNode?] = [:]
    /// Absolute paths in the order first read; the root comes first.
    private(set) var order: [String] = []
    private(set) var hash = ContentHash()
    private var bytes = 0

    static let maximumFiles = 1000
    static let maximumBytes = 64 * 1024 * 1024

    init(rootPath: String, rootDisplay: String, sink: DiagnosticSink, environment: EnvironmentInterpolation) {
        self.rootPath = rootPath
        self.rootDisplay = rootDisplay
        self.rootFolder = ((rootPath as NSString).deletingLastPathComponent as NSString).resolvingSymlinksInPath
        self.displayFolder = (rootPath as NSString).deletingLastPathComponent
        self.sink = sink
        self.environment = environment
    }

    /// The root document, read first; problems reading it are reported at `reportAt`.
    func root(writtenAs: String, reportAt: ConfigNode) -> ConfigNode? {
        order.append(rootPath)
        let node = ConfigLoader.parseYAML(
            file: rootPath, writtenAs: writtenAs, displayName: rootDisplay, sink: sink, environment: environment,
            hash: &hash,
            reportAt: reportAt)
        parsed[rootPath] = node
        if let size = try? FileManager.default.attributesOfItem(atPath: rootPath)[.size] as? Int { bytes += size }
        return node
    }

    /// The name a problem in `path` gives its file: relative to the root document's as written.
    func display(_ path: String) -> String {
        guard path != rootPath else { return rootDisplay }
        let relative = path.hasPrefix(displayFolder + "/") ? String(path.dropFirst(displayFolder.count + 1)) : path
        let folder = (rootDisplay as NSString).deletingLastPathComponent
        return folder.isEmpty ? relative : (folder as NSString).appendingPathComponent(relative)
    }

    /// The node a `$ref` in `file` points to, with the absolute path of its file. Reports at
    /// `at` and returns nil when the reference is malformed, its file cannot be read, or the
    /// pointer leads nowhere.
    func resolve(
        _ text: String, from file: String, at node: ConfigNode
    ) -> (file: String, node: ConfigNode, reference: SpecReference)? {
        let reference: SpecReference
        switch SpecReference.parse(text) {
        case .failure(let problem):
            node.report(problem.description)
            return nil
        case .success(let value):
            reference = value
        }
        let target =
            reference.file.isEmpty
            ? file : ConfigLoader.absolute(reference.file, relativeTo: (file as NSString).deletingLastPathComponent)
        guard let document = load(target, writtenAs: reference.file, at: node) else { return nil }
        var current = document
        for (depth, token) in reference.pointer.enumerated() {
            let next: Node?
            switch current.node {
            case .mapping(let mapping): next = mapping.first { $0.key.string == token }?.value
            case .sequence(let items): next = Int(token).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: next = nil
            }
            guard let next else {
                let prefix = SpecReference.fragment(Array(reference.pointer[...depth]))
                node.report("$ref '\(text)' leads nowhere: \(display(target)) has nothing at \(prefix)")
                return nil
            }
            current = current.child(next)
        }
        return (target, current, SpecReference(file: target, pointer: reference.pointer))
    }

    /// A file's parsed tree, read on first use.
    private func load(_ path: String, writtenAs: String, at node: ConfigNode) -> ConfigNode? {
        if let known = parsed[path] { return known }
        // A link inside the folder to a file outside it leaves it too.
        guard path.hasPrefix(displayFolder + "/"),
            (path as NSString).resolvingSymlinksInPath.hasPrefix(rootFolder + "/")
        else {
            node.report(
                "$ref '\(writtenAs)' leaves the document's folder; referenced files must be in \(rootFolder) or below it"
            )
            parsed[path] = .some(nil)
            return nil
        }
        guard order.count < Self.maximumFiles else {
            node.report("the document refers to more than \(Self.maximumFiles) files")
            return nil
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard bytes + size <= Self.maximumBytes else {
            node.report("the document's files are larger than \(Self.maximumBytes / 1024 / 1024) MiB together")
            parsed[path] = .some(nil)
            return nil
        }
        bytes += size
        order.append(path)
        let loaded = ConfigLoader.parseYAML(
            file: path, writtenAs: writtenAs, displayName: display(path), sink: sink, environment: environment,
            hash: &hash,
            reportAt: node)
        parsed[path] = .some(loaded)
        return loaded
    }
}
