import Foundation

/// One declared parameter of an operation, ready to read from a request in its style and check.
///
/// Styles (OpenAPI 3 §4.8.12.4): `simple` (path and header, `3,4,5`), `label` (`.3.4.5`),
/// `matrix` (`;id=3;id=4`), `form` (query and cookie, `id=3&id=4` or `id=3,4`),
/// `spaceDelimited`, `pipeDelimited` and `deepObject` (`color[R]=100`). The text is turned into
/// JSON by the schema's types (`"5"` is the number 5 for an integer schema, a string else) and
/// then validated, so an error reads as it would for a body.
struct ParameterRule: Sendable {
    enum Location: String, Sendable {
        case path, query, header, cookie
    }

    enum Style: String, Sendable {
        case simple, label, matrix, form, spaceDelimited, pipeDelimited, deepObject
    }

    enum Shape: Sendable {
        case primitive(ScalarKind)
        case array(ScalarKind)
        case object([String: ScalarKind])
        /// `content: {application/json: …}`: the value is JSON text.
        case json
        case text
    }

    enum ScalarKind: Sendable {
        case integer, number, boolean, string, any

        init(_ schema: JSONValue) {
            let names: [String]
            switch schema["type"] {
            case .string(let name)?: names = [name]
            case .array(let list)?: names = list.compactMap(\.string).filter { $0 != "null" }
            default: names = []
            }
            switch names.first {
            case "integer": self = .integer
            case "number": self = .number
            case "boolean": self = .boolean
            case "string": self = .string
            default: self = .any
            }
        }
    }

    let name: String
    let location: Location
    let style: Style
    let explode: Bool
    let required: Bool
    let shape: Shape
    let schema: SchemaNode?

    /// The parameter's value in `request`, as JSON; nil when it is absent.
    func value(in request: RequestParts) -> JSONValue? {
        switch location {
        case .path:
            guard let raw = request.pathValues[name] else { return nil }
            return decodePath(raw)
        case .header:
            let values = request.header(name.lowercased())
            guard !values.isEmpty else { return nil }
            return decodeSimple(values.joined(separator: ","))
        case .cookie:
            guard let raw = request.cookie(name) else { return nil }
            return decodeDelimited(raw, separator: ",")
        case .query:
            return decodeQuery(request.query)
        }
    }

    // MARK: Text to JSON

    static func scalar(_ text: String, _ kind: ScalarKind) -> JSONValue {
        switch kind {
        case .integer, .number:
            return JSONText.isNumber(text) ? .number(text) : .string(text)
        case .boolean:
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            return .string(text)
        case .string:
            return .string(text)
        case .any:
            if JSONText.isNumber(text) { return .number(text) }
            if text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        }
    }

    private func fromParts(_ parts: [String]) -> JSONValue {
        switch shape {
        case .primitive(let kind): return Self.scalar(parts.joined(separator: ","), kind)
        case .array(let kind): return .array(parts.map { Self.scalar($0, kind) })
        case .object(let kinds):
            // `R,100,G,200`: names and values in turn.
            var fields: [(String, JSONValue)] = []
            var index = 0
            while index + 1 < parts.count {
                fields.append((parts[index], Self.scalar(parts[index + 1], kinds[parts[index]] ?? .any)))
                index += 2
            }
            return .object(fields)
        case .json:
            return (try? JSONParser.parse(Array(parts.joined(separator: ",").utf8)))
                ?? .string(parts.joined(separator: ","))
        case .text: return .string(parts.joined(separator: ","))
        }
    }

    /// `R=100,G=200`: exploded object members.
    private func fromPairs(_ pairs: [String]) -> JSONValue {
        guard case .object(let kinds) = shape else { return fromParts(pairs) }
        return .object(
            pairs.map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(parts[0])
                return (key, Self.scalar(parts.count > 1 ? String(parts[1]) : "", kinds[key] ?? .any))
            })
    }

    private func decodeSimple(_ raw: String) -> JSONValue {
        let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        if case .object = shape, explode { return fromPairs(parts) }
        if case .primitive = shape { return fromParts([raw.trimmingWhitespace()]) }
        return fromParts(parts)
    }

    private func decodeDelimited(_ raw: String, separator: Character) -> JSONValue {
        switch shape {
        case .array, .object:
            return fromParts(raw.split(separator: separator, omittingEmptySubsequences: false).map(String.init))
        default: return fromParts([raw])
        }
    }

    private func decodePath(_ raw: String) -> JSONValue {
        switch style {
        case .label:
            guard raw.hasPrefix(".") else { return .string(raw) }
            let body = String(raw.dropFirst())
            let parts = body.split(separator: explode ? "." : ",", omittingEmptySubsequences: false).map(String.init)
            if case .object = shape, explode { return fromPairs(parts) }
            if case .primitive = shape { return fromParts([body]) }
            return fromParts(parts)
        case .matrix:
            guard raw.hasPrefix(";") else { return .string(raw) }
            let entries = raw.dropFirst().split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            if case .object = shape, explode { return fromPairs(entries) }
            let values = entries.map { entry -> String in
                let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.count > 1 ? String(parts[1]) : ""
            }
            if case .array = shape, explode { return fromParts(values) }
            return decodeSimple(values.joined(separator: ","))
        default:
            return decodeSimple(raw)
        }
    }

    private func decodeQuery(_ query: [(String, String)]) -> JSONValue? {
        switch style {
        case .deepObject:
            let prefix = name + "["
            let members = query.filter { $0.0.hasPrefix(prefix) && $0.0.hasSuffix("]") }
            guard !members.isEmpty else { return nil }
            let kinds: [String: ScalarKind]
            if case .object(let known) = shape { kinds = known } else { kinds = [:] }
            return .object(
                members.map { key, value in
                    let member = String(key.dropFirst(prefix.count).dropLast())
                    return (member, Self.scalar(value, kinds[member] ?? .any))
                })
        default:
            if case .object(let kinds) = shape, explode, style == .form {
                let members = query.filter { kinds[$0.0] != nil }
                guard !members.isEmpty else { return nil }
                return .object(members.map { ($0.0, Self.scalar($0.1, kinds[$0.0] ?? .any)) })
            }
            let values = query.filter { $0.0 == name }.map(\.1)
            guard let first = values.first else { return nil }
            switch (shape, style) {
            case (.array, .form) where explode: return fromParts(values)
            case (.array, .spaceDelimited), (.object, .spaceDelimited): return decodeDelimited(first, separator: " ")
            case (.array, .pipeDelimited), (.object, .pipeDelimited): return decodeDelimited(first, separator: "|")
            case (.array, _), (.object, _): return decodeDelimited(first, separator: ",")
            default: return fromParts([first])
            }
        }
    }
}

/// What parameter validation reads of a request, so that the contract does not depend on an
/// HTTP library: the path's parameter values (percent-decoded), the query's pairs (decoded, in
/// order), headers by lower-case name, and a cookie by name. The caller reads only what the
/// contract's parameters need (`OperationContract.reads`).
package struct RequestParts {
    package var pathValues: [String: String]
    package var query: [(String, String)]
    package var header: (String) -> [String]
    package var cookie: (String) -> String?

    package init(
        pathValues: [String: String], query: [(String, String)], header: @escaping (String) -> [String],
        cookie: @escaping (String) -> String?
    ) {
        self.pathValues = pathValues
        self.query = query
        self.header = header
        self.cookie = cookie
    }

    /// `a=1&b=x+y&c` as `[(a, 1), (b, x y), (c, "")]`, percent-decoded (a bad escape is kept as written).
    package static func queryPairs(_ query: Substring) -> [(String, String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        let spaced =
            text.utf8.contains(UInt8(ascii: "+")) ? text.replacingOccurrences(of: "+", with: " ") : String(text)
        guard spaced.utf8.contains(UInt8(ascii: "%")) else { return spaced }
        return spaced.removingPercentEncoding ?? spaced
    }
}
