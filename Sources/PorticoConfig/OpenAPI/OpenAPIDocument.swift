import Foundation

/// An OpenAPI document as the gateway keeps it: one tree with every `$ref` local (files it
/// referred to are bundled in), read once per config and shared by the portal, the mock and the
/// validators.
package final class OpenAPIDocument: Sendable {
    /// The bundled document.
    package let root: JSONValue
    /// The `openapi` version as written: `3.0.3`, `3.1.0`, `3.2.0`.
    package let version: String
    /// `components.schemas` by name.
    package let schemas: [String: JSONValue]
    /// Every file the document was read from, the root first (absolute paths).
    package let files: [String]

    /// Nested `$ref`s followed at most this deep before giving up (a chain, not a schema's depth).
    static let maximumReferenceChain = 32

    package init(root: JSONValue, version: String, files: [String]) {
        self.root = root
        self.version = version
        self.files = files
        var schemas: [String: JSONValue] = [:]
        for (name, schema) in root["components"]?["schemas"]?.fields ?? [] where schemas[name] == nil {
            schemas[name] = schema
        }
        self.schemas = schemas
    }

    /// True for 3.0 documents, whose schemas are OpenAPI's JSON Schema subset (`nullable`,
    /// boolean `exclusiveMinimum`) rather than JSON Schema 2020-12.
    package var isVersion30: Bool { version.hasPrefix("3.0") }

    /// The value a local `$ref` (`#/components/schemas/Pet`) points to.
    package func lookup(_ reference: String) -> JSONValue? {
        let prefix = "#/components/schemas/"
        if reference.hasPrefix(prefix), !reference.dropFirst(prefix.count).contains("/") {
            let name = String(reference.dropFirst(prefix.count))
            if let schema = schemas[name] { return schema }
            if let decoded = name.removingPercentEncodingIfNeeded, let schema = schemas[decoded] { return schema }
        }
        guard case .success(let parsed) = SpecReference.parse(reference), parsed.file.isEmpty else { return nil }
        var current = root
        for token in parsed.pointer {
            switch current {
            case .object:
                guard let next = current[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// `value` with `$ref`s followed until an object that is not a reference (or the chain ends).
    package func resolve(_ value: JSONValue) -> JSONValue {
        var current = value
        for _ in 0..<Self.maximumReferenceChain {
            guard let reference = current["$ref"]?.string, let target = lookup(reference) else { return current }
            current = target
        }
        return current
    }

    /// The operation `method` (lower case, as written) of the path item at `path`, with the
    /// path item (both resolved).
    package func operation(path: String, method: String) -> (operation: JSONValue, pathItem: JSONValue)? {
        guard let item = root["paths"]?[path].map(resolve) else { return nil }
        // 3.2 writes other methods under additionalOperations, as sent (`COPY`).
        guard let operation = (item[method] ?? item["additionalOperations"].map(resolve)?[method]).map(resolve) else {
            return nil
        }
        return (operation, item)
    }
}

extension String {
    /// The text percent-decoded when it holds a `%`; nil otherwise.
    fileprivate var removingPercentEncodingIfNeeded: String? {
        contains("%") ? removingPercentEncoding : nil
    }
}
