import Foundation
import Yams

/// A JSON value that keeps object keys in document order.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number as written, so `1.50` stays `1.50`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.jsonText == rhs.jsonText }

    /// Reads a YAML node; plain scalars get YAML's core types, quoted ones stay strings.
    init(_ node: Node) {
        switch node {
        case .mapping(let mapping):
            self = .object(mapping.map { ($0.key.string ?? "", JSONValue($0.value)) })
        case .sequence(let sequence):
            self = .array(sequence.map(JSONValue.init))
        case .alias:
            self = .null
        case .scalar(let scalar):
            guard scalar.style == .plain else {
                self = .string(scalar.string)
                return
            }
            switch scalar.string {
            case "", "~", "null", "Null", "NULL": self = .null
            case "true", "True", "TRUE": self = .bool(true)
            case "false", "False", "FALSE": self = .bool(false)
            default:
                // Only JSON's own number forms: YAML's `.5`, `inf` or `nan` would be invalid JSON
                // when written back, and a bound of `inf` would trap arithmetic on it.
                if JSONText.isNumber(scalar.string) {
                    self = .number(scalar.string)
                } else {
                    self = .string(scalar.string)
                }
            }
        }
    }

    package var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text
        case .string(let text): return JSONText.quote(text)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { JSONText.quote($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        }
    }
    /// Reads YAML or JSON text with its keys in the order written.
    package static func parse(yaml text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else { return .null }
        return JSONValue(node)
    }

    /// Reads a YAML or JSON file (an OpenAPI document) with its keys in file order.
    package static func load(file path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        guard let node = try Yams.compose(yaml: text) else { return .null }
        return JSONValue(node)
    }

    /// The value under `key` of an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    package var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    package var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// An object's fields in order; empty for anything else.
    package var fields: [(String, JSONValue)] {
        if case .object(let fields) = self { return fields }
        return []
    }

    /// An array's items; empty for anything else.
    package var items: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    /// A number or string as text (`"200"`, `3`), for keys such as status codes.
    package var text: String? {
        switch self {
        case .string(let text), .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        default: return nil
        }
    }
}
