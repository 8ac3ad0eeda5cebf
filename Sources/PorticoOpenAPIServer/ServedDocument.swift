import Foundation
import OpenAPIRuntime
import PorticoConfig

/// An OpenAPI document that Portico serves its own API from (the admin API's, the portal's), as
/// the binary carries it: served as JSON, compiled into the same request checks the gateway runs
/// for its users' APIs (`validate: enforce`), and read for the methods each path has (a method a
/// path lacks is answered 405 with `Allow`).
package struct ServedDocument: Sendable {
    /// A whole document, as the generated `openapi.json` operations answer it.
    package typealias Object = OpenAPIObjectContainer

    /// The document as written.
    let root: JSONValue
    /// The same as JSON, its keys in the order written.
    package let json: String
    /// The same, decoded once, as the generated `openapi.json` operation answers it.
    package let object: Object
    /// Each operation's path template (split into segments; `{name}` matches any one), contract,
    /// and the media types of its 2xx answers.
    let operations: [(segments: [Substring], declared: OperationContract.Declared, answers: [String])]

    /// Reads a document compiled into the binary; a document that does not load is a build
    /// mistake, which the tests catch, so this stops the process rather than serve without it.
    package static func embedded(_ bytes: [UInt8], name: String) -> ServedDocument {
        do { return try ServedDocument(yaml: String(decoding: bytes, as: UTF8.self)) } catch {
            fatalError("\(name) does not load: \(error)")
        }
    }

    package init(yaml: String) throws {
        root = try JSONValue.parse(yaml: yaml)
        json = root.jsonText
        object = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(json.utf8))
        let document = OpenAPIDocument(root: root, version: root["openapi"]?.string ?? "3.1.0", files: [])
        let (declared, problems) = OperationContract.all(in: document)
        guard problems.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: problems.joined(separator: "; ")))
        }
        let paths = root["paths"]
        operations = declared.map { operation in
            let responses = paths?[operation.path]?[operation.method.lowercased()]?["responses"]?.fields ?? []
            let answers = responses.filter { $0.0.hasPrefix("2") }.flatMap { ($0.1["content"]?.fields ?? []).map(\.0) }
            return (operation.path.split(separator: "/"), operation, answers)
        }
    }

    /// The document with `url` as its one server: where a config puts the API (the portal's path).
    package func object(server url: String) throws -> Object {
        let fields = root.fields.map { key, value in
            key == "servers" ? (key, JSONValue.array([.object([("url", .string(url))])])) : (key, value)
        }
        return try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(JSONValue.object(fields).jsonText.utf8))
    }

    /// The operations whose template matches `path` (relative to the server's prefix, without its
    /// query), with the media types of their 2xx answers.
    package func operations(matching path: Substring) -> [(declared: OperationContract.Declared, answers: [String])] {
        let segments = path.split(separator: "/")
        return operations.filter { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") || $0 == $1 }
        }.map { ($0.declared, $0.answers) }
    }

    /// The methods the document gives `path` (with `HEAD` wherever there is `GET`, which the router
    /// answers for it), or nil when no path of it matches.
    package func methods(for path: Substring) -> [String]? {
        let methods = Set(operations(matching: path).map(\.declared.method))
        guard !methods.isEmpty else { return nil }
        return (methods.contains("GET") ? methods.union(["HEAD"]) : methods).sorted()
    }
}
