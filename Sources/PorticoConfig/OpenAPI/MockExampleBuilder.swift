import Yams

/// Builds the mock upstream's answer for an operation from the raw document tree.
///
/// The answer is the first 2xx response: its `example`, the first of its `examples`, or a value
/// generated from its schema. Local `$ref`s are followed; recursion stops at a fixed depth.
struct MockExampleBuilder {
    let root: Node

    private static let maxDepth = 8

    func mockResponse(forOperation operation: Node) -> MockResponse? {
        guard case .mapping(let responses)? = operation.value(forKey: "responses") else { return nil }
        for (key, value) in responses {
            guard let code = key.string, let status = Self.successStatus(code) else { continue }
            let response = resolve(value, depth: 0)
            guard case .mapping(let content)? = response.value(forKey: "content"), !content.isEmpty else {
                return MockResponse(status: status, contentType: nil, body: [])
            }
            let chosen =
                content.first { ($0.key.string ?? "").lowercased().contains("json") } ?? content.first!
            let contentType = chosen.key.string ?? "application/json"
            let media = resolve(chosen.value, depth: 0)
            let value = exampleValue(of: media) ?? media.value(forKey: "schema").map { generate(from: $0, depth: 0) } ?? .null
            if contentType.lowercased().contains("json") {
                return MockResponse(status: status, contentType: contentType, body: Array(value.jsonText.utf8))
            }
            if case .string(let text) = value {
                return MockResponse(status: status, contentType: contentType, body: Array(text.utf8))
            }
            return MockResponse(status: status, contentType: contentType, body: Array(value.jsonText.utf8))
        }
        return nil
    }

    private static func successStatus(_ code: String) -> Int? {
        if code.uppercased() == "2XX" { return 200 }
        guard let value = Int(code), (200...299).contains(value) else { return nil }
        return value
    }

    /// `example`, or the first entry of `examples` (a map of Example Objects, or a list in a 3.1 schema).
    private func exampleValue(of node: Node) -> JSONValue? {
        if let example = node.value(forKey: "example") { return JSONValue(example) }
        switch node.value(forKey: "examples") {
        case .mapping(let examples)?:
            guard let first = examples.first else { return nil }
            let example = resolve(first.value, depth: 0)
            return example.value(forKey: "value").map(JSONValue.init)
        case .sequence(let list)?:
            return list.first.map(JSONValue.init)
        default:
            return nil
        }
    }

    /// Follows a local `$ref` (`#/components/...`).
    private func resolve(_ node: Node, depth: Int) -> Node {
        guard depth < Self.maxDepth, let reference = node.value(forKey: "$ref")?.string, reference.hasPrefix("#/") else { return node }
        var current = root
        for part in reference.dropFirst(2).split(separator: "/") {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = current.value(forKey: key) else { return node }
            current = next
        }
        return resolve(current, depth: depth + 1)
    }

    private func generate(from schemaNode: Node, depth: Int) -> JSONValue {
        guard depth < Self.maxDepth else { return .null }
        let schema = resolve(schemaNode, depth: depth)
        if let example = exampleValue(of: schema) { return example }
        for key in ["const", "default"] { if let value = schema.value(forKey: key) { return JSONValue(value) } }
        if case .sequence(let values)? = schema.value(forKey: "enum"), let first = values.first { return JSONValue(first) }
        if case .sequence(let parts)? = schema.value(forKey: "allOf") {
            var merged: [(String, JSONValue)] = []
            for part in parts {
                if case .object(let fields) = generate(from: part, depth: depth + 1) { merged += fields }
            }
            return .object(merged)
        }
        for key in ["oneOf", "anyOf"] {
            if case .sequence(let options)? = schema.value(forKey: key), let first = options.first {
                return generate(from: first, depth: depth + 1)
            }
        }
        switch Self.type(of: schema) {
        case "object":
            guard case .mapping(let properties)? = schema.value(forKey: "properties") else { return .object([]) }
            return .object(properties.compactMap { name, property in
                name.string.map { ($0, generate(from: property, depth: depth + 1)) }
            })
        case "array":
            guard let items = schema.value(forKey: "items") else { return .array([]) }
            return .array([generate(from: items, depth: depth + 1)])
        case "integer":
            return .number(schema.value(forKey: "minimum")?.string ?? "1")
        case "number":
            return .number(schema.value(forKey: "minimum")?.string ?? "1.5")
        case "boolean":
            return .bool(true)
        case "null":
            return .null
        default:
            return .string(Self.sampleString(format: schema.value(forKey: "format")?.string))
        }
    }

    private static func type(of schema: Node) -> String {
        if let type = schema.value(forKey: "type")?.string { return type }
        if case .sequence(let types)? = schema.value(forKey: "type") {
            return types.compactMap(\.string).first { $0 != "null" } ?? "null"
        }
        return schema.value(forKey: "properties") != nil ? "object" : "string"
    }

    private static func sampleString(format: String?) -> String {
        switch format {
        case "date-time": return "2026-01-01T00:00:00Z"
        case "date": return "2026-01-01"
        case "uuid": return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        case "email": return "user@example.com"
        case "uri", "url": return "https://example.com/"
        case "ipv4": return "192.0.2.1"
        default: return "string"
        }
    }
}

extension Node {
    /// The value under `key` in a mapping, compared as plain text.
    ///
    /// Yams' own subscript compares whole nodes, resolving each key's YAML tag with a regular
    /// expression; that made config loading several times slower.
    func value(forKey key: String) -> Node? {
        guard case .mapping(let mapping) = self else { return nil }
        return mapping.first { $0.key.string == key }?.value
    }
}
