internal import Foundation
internal import OpenAPIRuntime
import PorticoConfig

/// `openapi.yaml`, the admin API's contract, as the binary carries it: served as JSON at
/// `GET /admin/openapi.json`, compiled into the same request checks the gateway runs for its
/// users' APIs (`validate: enforce`), and read for the methods each path has (a method a path
/// lacks is answered 405 with `Allow`).
struct AdminDocument: Sendable {
    /// The document as JSON, its keys in the order written.
    let json: String
    /// The same, as `GET /admin/openapi.json` answers it, decoded once.
    let object: OpenAPIObjectContainer
    /// Each operation's path template (split into segments; `{name}` matches any one) and contract.
    let operations: [(segments: [Substring], declared: OperationContract.Declared)]

    static let shared: AdminDocument = {
        do { return try AdminDocument(yaml: String(decoding: PackageResources.openapi_yaml, as: UTF8.self)) } catch {
            // The document is compiled in and loaded by the tests; a broken one never ships.
            fatalError("openapi.yaml does not load: \(error)")
        }
    }()

    init(yaml: String) throws {
        let root = try JSONValue.parse(yaml: yaml)
        json = root.jsonText
        object = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(json.utf8))
        let document = OpenAPIDocument(root: root, version: root["openapi"]?.string ?? "3.1.0", files: [])
        let (declared, problems) = OperationContract.all(in: document)
        guard problems.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: problems.joined(separator: "; ")))
        }
        operations = declared.map { ($0.path.split(separator: "/"), $0) }
    }

    /// The operations whose template matches `path` (without its query).
    func operations(matching path: Substring) -> [OperationContract.Declared] {
        let segments = path.split(separator: "/")
        return operations.filter { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") || $0 == $1 }
        }.map(\.declared)
    }

    /// The methods the document gives `path`, or nil when no path of it matches.
    func methods(for path: String) -> [String]? {
        let matching = operations(matching: Substring(path))
        return matching.isEmpty ? nil : Set(matching.map(\.method)).sorted()
    }
}
