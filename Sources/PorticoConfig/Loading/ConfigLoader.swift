import Foundation
import Yams

/// Reads `gateway.yaml` and the OpenAPI documents it names into a checked `GatewayConfig`.
///
/// `portico validate` and `portico serve` (and every reload) go through `load(file:)`, so a file
/// that validates also loads. All problems are collected and thrown together as a `ConfigError`.
package struct ConfigLoader: Sendable {
    private let environment: [String: String]

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    static let rootKeys: Set<String> = [
        "listen", "listeners", "node", "admin", "store", "server", "upstreams", "auth", "consumers", "plans", "limits",
        "portal", "cache", "apis",
    ]
    static let lifecycleKeys: Set<String> = [
        "deprecated", "sunset", "successor", "deprecation-docs", "serve-after-sunset",
    ]
    static let apiKeys = Set([
        "name", "version", "base-path", "host", "upstream", "routes", "endpoints", "openapi", "strip-base-path",
        "versioning", "default", "split", "sticky", "force-header",
    ]).union(PolicyConfig.keys).union(lifecycleKeys)
    static let routeKeys = Set(["path", "methods", "name", "split", "sticky", "force-header", "respond", "redirect"])
        .union(PolicyConfig.keys).union(lifecycleKeys)
    static let upstreamKeys: Set<String> = [
        "targets", "connect-timeout", "timeout", "idle-timeout", "max-connections", "preserve-host",
        "balance", "hash-on", "health", "circuit-breaker", "retries", "timeouts", "dns", "tls", "protocol",
    ]

    /// Loads and checks the config at `file`. Relative paths inside it resolve against its folder.
    package func load(file: String) throws(ConfigError) -> GatewayConfig {
        let path = Self.absolute(file, relativeTo: FileManager.default.currentDirectoryPath)
        let sink = DiagnosticSink()
        var hash = ContentHash()
        var config = GatewayConfig(sourceFile: path, sourceFiles: [path])
        let interpolation = EnvironmentInterpolation(environment: environment)

        if let root = Self.parseYAML(file: path, displayName: file, sink: sink, environment: interpolation, hash: &hash)
        {
            let reader = Reader(
                sink: sink,
                folder: (path as NSString).deletingLastPathComponent,
                displayFolder: (file as NSString).deletingLastPathComponent,
                environment: interpolation
            )
            reader.readRoot(root, into: &config, hash: &hash)
        }
        guard sink.isEmpty else { throw ConfigError(sink.diagnostics) }
        config.contentHash = hash.hex
        config.warnings = sink.warnings
        return config
    }

    /// Parses one YAML (or JSON) file into a positioned node, reporting read and syntax errors.
    static func parseYAML(
        file path: String,
        writtenAs: String? = nil,
        displayName: String,
        sink: DiagnosticSink,
        environment: EnvironmentInterpolation,
        hash: inout ContentHash,
        reportAt: ConfigNode? = nil
    ) -> ConfigNode? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if let reportAt {
                reportAt.report("cannot read file '\(writtenAs ?? displayName)' (resolved to \(path))")
            } else {
                sink.report("cannot read config file", file: displayName, line: 0, column: 0)
            }
            return nil
        }
        hash.combine(data)
        guard let text = String(data: data, encoding: .utf8) else {
            sink.report("file is not UTF-8 text", file: displayName, line: 0, column: 0)
            return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text, .basic) else {
                sink.report("file is empty", file: displayName, line: 1, column: 1)
                return nil
            }
            return ConfigNode(node: node, file: displayName, sink: sink, environment: environment)
        } catch let error as YamlError {
            let (mark, problem) = Self.describe(error)
            sink.report(
                "YAML syntax error: \(problem)", file: displayName, line: mark?.line ?? 0, column: mark?.column ?? 0)
            return nil
        } catch {
            sink.report("YAML syntax error: \(error)", file: displayName, line: 0, column: 0)
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> (Mark?, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return (mark, prefix + problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark, "duplicated keys \(duplicates.joined(separator: ", "))")
        default:
            return (nil, "\(error)")
        }
    }

    /// `path` made absolute against the current folder, as `load(file:)` resolves it.
    package static func absolutePath(_ path: String) -> String {
        absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
    }

    static func absolute(_ path: String, relativeTo folder: String) -> String {
        let full = path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }
}
