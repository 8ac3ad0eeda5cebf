import Foundation
import PorticoConfig

// The files and folders both test targets use: the package's own files, the shared fixtures
// (`Tests/Fixtures/`), and configs written to a temporary folder and loaded as `portico` would.

/// The package root, found from this file's path (`Sources/PorticoTesting/TestFiles.swift`).
package let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A fixture file's path.
package func fixture(_ name: String) -> String {
    packageRoot + "/Tests/Fixtures/" + name
}

/// Loads `yaml` (with `files` beside it) and returns the diagnostics, with the folder cut from file names.
package func configDiagnostics(
    _ yaml: String, files: [String: String] = [:], environment: [String: String]? = nil
) throws -> [ConfigDiagnostic] {
    let folder = try writeConfigFolder(yaml, files: files)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    do {
        _ = try (environment.map { ConfigLoader(environment: $0) } ?? ConfigLoader()).load(
            file: folder + "/gateway.yaml")
        return []
    } catch {
        return error.diagnostics.map { diagnostic in
            var copy = diagnostic
            copy.file = (diagnostic.file as NSString).lastPathComponent
            return copy
        }
    }
}

/// Loads `yaml` (with `files` beside it, in sub-folders as named), which must be valid.
package func loadConfig(_ yaml: String, files: [String: String] = [:]) throws -> GatewayConfig {
    let folder = try writeConfigFolder(yaml, files: files)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var config = try ConfigLoader().load(file: folder + "/gateway.yaml")
    config.sourceFiles = config.sourceFiles.map { String($0.dropFirst(folder.count + 1)) }
    return config
}

/// A new temporary folder holding `gateway.yaml` and `files` (in sub-folders as named); the caller removes it.
package func writeConfigFolder(_ yaml: String, files: [String: String] = [:]) throws -> String {
    let folder = try GatewayHarness.makeTemporaryFolder()
    try yaml.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
    for (name, text) in files {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    return folder
}
