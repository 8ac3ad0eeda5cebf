/// A value that fits a schema, for the mock: a fixed one (the schema's `example`, `default`,
/// first `enum` value, or a plain value of its type and format) or, with a random source, a new
/// one each time that honours `enum`, `format`, `minimum`/`maximum`, lengths and item counts
/// (Prism's `dynamic=true`).
///
/// `$ref`s are followed through the document; nesting stops at `maximumDepth` and arrays hold at
/// most a few items, so no schema (a recursive one included) makes a large answer.
package struct SchemaSampler {
    let document: OpenAPIDocument
    var random: (any RandomNumberGenerator)?

    static let maximumDepth = 8
    /// Values one sample may hold at most: past it, optional properties are left out and
    /// nested values are null, so a wide, deep schema still gives a small answer.
    package static let defaultMaximumValues = 2000
    private let maximumValues: Int
    private var values = 0

    package init(
        document: OpenAPIDocument, random: (any RandomNumberGenerator)?, maximumValues: Int = Self.defaultMaximumValues
    ) {
        self.document = document
        self.random = random
        self.maximumValues = maximumValues
    }

    package mutating func sample(_ schema: JSONValue) -> JSONValue {
        sample(schema, depth: 0)
    }

    private mutating func sample(_ raw: JSONValue, depth: Int) -> JSONValue {
        guard depth < Self.maximumDepth, values < maximumValues else { return .null }
        values += 1
        let schema = document.resolve(raw)
        if random == nil {
            if let example = schema["example"] { return example }
            if let first = schema["examples"]?.items.first { return first }
            for key in ["const", "default"] { if let value = schema[key] { return value } }
        } else if let constant = schema["const"] {
            return constant
        }
        if let values = schema["enum"]?.items, !values.isEmpty { return pick(values) }
        if let parts = schema["allOf"]?.items, !parts.isEmpty {
            // One object of every part's properties, with every part's `required`, so that a part
            // that only requires (`{required: [a]}`) is honoured.
            var properties: [(String, JSONValue)] = schema["properties"]?.fields ?? []
            var required: [JSONValue] = schema["required"]?.items ?? []
            var others: [JSONValue] = []
            var queue = parts
            var seen = 0
            while !queue.isEmpty, seen < 64 {
                let part = document.resolve(queue.removeFirst())
                seen += 1
                queue.insert(contentsOf: part["allOf"]?.items ?? [], at: 0)
                for (name, property) in part["properties"]?.fields ?? []
                where !properties.contains(where: { $0.0 == name }) {
                    properties.append((name, property))
                }
                required += part["required"]?.items ?? []
                if part["properties"] == nil, part["required"] == nil, part["allOf"] == nil { others.append(part) }
            }
            if properties.isEmpty, let first = others.first { return sample(first, depth: depth + 1) }
            return objectSample(
                .object([("properties", .object(properties)), ("required", .array(required))]), depth: depth)
        }
        for key in ["oneOf", "anyOf"] {
            guard let options = schema[key]?.items, !options.isEmpty else { continue }
            let option = pick(options)
            var value = sample(option, depth: depth + 1)
            // The discriminator says which branch this is.
            if let property = schema["discriminator"]?["propertyName"]?.string, let reference = option["$ref"]?.string,
                case .object(var fields) = value
            {
                let mapped = schema["discriminator"]?["mapping"]?.fields.first { $0.1.string == reference }?.0
                let tag = mapped ?? String(reference.split(separator: "/").last ?? "")
                fields.removeAll { $0.0 == property }
                fields.insert((property, .string(tag)), at: 0)
                value = .object(fields)
            }
            return value
        }
        switch Self.type(of: schema) {
        case "object": return objectSample(schema, depth: depth)
        case "array":
            guard let items = schema["items"] else { return .array([]) }
            let low = schema["minItems"]?.text.flatMap(Int.init) ?? 1
            let high = max(low, min(schema["maxItems"]?.text.flatMap(Int.init) ?? 3, 3))
            let count = random == nil ? min(max(low, 1), high) : between(min(low, 3), min(high, 3))
            return .array((0..<count).map { _ in sample(items, depth: depth + 1) })
        case "integer": return .number(String(integer(schema)))
        case "number": return number(schema)
        case "boolean": return .bool(random == nil ? true : between(0, 1) == 1)
        case "null": return .null
        default: return .string(string(schema))
        }
    }

    private mutating func objectSample(_ schema: JSONValue, depth: Int) -> JSONValue {
        let required = Set(schema["required"]?.items.compactMap(\.string) ?? [])
        var fields: [(String, JSONValue)] = []
        for (name, property) in schema["properties"]?.fields ?? [] {
            // A random answer leaves out some optional properties, as real ones do.
            if random != nil, !required.contains(name), between(0, 3) == 0 { continue }
            if values >= maximumValues, !required.contains(name) { continue }
            let resolved = document.resolve(property)
            if resolved["writeOnly"]?.bool == true { continue }
            fields.append((name, sample(property, depth: depth + 1)))
        }
        return .object(fields)
    }

    static func type(of schema: JSONValue) -> String {
        if let type = schema["type"]?.string { return type }
        if let types = schema["type"]?.items { return types.compactMap(\.string).first { $0 != "null" } ?? "null" }
        if schema["properties"] != nil { return "object" }
        if schema["items"] != nil { return "array" }
        return "string"
    }

    // MARK: Values

    private mutating func between(_ low: Int, _ high: Int) -> Int {
        guard var source = random, high > low else { return low }
        let value = Int.random(in: low...high, using: &source)
        random = source
        return value
    }

    private mutating func pick(_ values: [JSONValue]) -> JSONValue {
        values[between(0, values.count - 1)]
    }

    private mutating func integer(_ schema: JSONValue) -> Int {
        var low = Self.bound(schema["minimum"]) ?? (random == nil ? 1 : 0)
        var high = Self.bound(schema["maximum"]) ?? max(low, 0) + 1000
        if let exclusive = schema["exclusiveMinimum"] {
            if exclusive.bool == true { low += 1 } else if let value = Self.bound(exclusive) { low = value + 1 }
        }
        if let exclusive = schema["exclusiveMaximum"] {
            if exclusive.bool == true { high -= 1 } else if let value = Self.bound(exclusive) { high = value - 1 }
        }
        guard high >= low else { return low }
        var value = random == nil ? low : between(low, min(high, low + 1_000_000))
        if let multiple = schema["multipleOf"]?.text.flatMap({ Int($0) }), multiple > 0 {
            let rounded = value / multiple * multiple
            value = rounded < low ? rounded + multiple : rounded
        }
        return value
    }

    /// A numeric keyword as a whole number within ±10^15, so arithmetic on it cannot overflow.
    private static func bound(_ value: JSONValue?) -> Int? {
        guard let text = value?.text, let number = Double(text), number.isFinite else { return nil }
        return Int(min(max(number.rounded(), -1e15), 1e15))
    }

    private mutating func number(_ schema: JSONValue) -> JSONValue {
        // `numberValue` is finite: `Double.random` traps on an infinite range.
        let low = schema["minimum"]?.numberValue ?? (random == nil ? 1.5 : 0)
        let high = schema["maximum"]?.numberValue ?? low + 1000
        guard random != nil, high > low, (high - low).isFinite, var source = random else {
            return .number(Self.text(low))
        }
        let value = Double.random(in: low..<high, using: &source)
        random = source
        // Two decimals where that cannot overflow.
        return .number(Self.text(abs(value) < 1e15 ? (value * 100).rounded() / 100 : value))
    }

    private static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private mutating func string(_ schema: JSONValue) -> String {
        let format = schema["format"]?.string
        let minimum = schema["minLength"]?.text.flatMap(Int.init) ?? 0
        let maximum = schema["maxLength"]?.text.flatMap(Int.init)
        if let pattern = schema["pattern"]?.string, let text = PatternSampler.sample(pattern, random: random) {
            return text
        }
        var text: String
        switch format {
        case "date-time":
            text =
                random == nil
                ? "2026-01-01T00:00:00Z"
                : "2026-\(pad(between(1, 12)))-\(pad(between(1, 28)))T\(pad(between(0, 23))):\(pad(between(0, 59))):\(pad(between(0, 59)))Z"
        case "date": text = random == nil ? "2026-01-01" : "2026-\(pad(between(1, 12)))-\(pad(between(1, 28)))"
        case "time": text = "12:00:00Z"
        case "uuid": text = random == nil ? "3fa85f64-5717-4562-b3fc-2c963f66afa6" : uuid()
        case "email": text = random == nil ? "user@example.com" : "user\(between(1, 9999))@example.com"
        case "uri", "url": text = random == nil ? "https://example.com/" : "https://example.com/\(word())"
        case "hostname": text = "example.com"
        case "ipv4": text = random == nil ? "192.0.2.1" : "192.0.2.\(between(1, 254))"
        case "ipv6": text = "2001:db8::1"
        case "byte": text = "c3RyaW5n"
        default: text = random == nil ? "string" : word()
        }
        if text.count < minimum { text += String(repeating: "x", count: min(minimum - text.count, 4096)) }
        if let maximum, maximum >= 0, text.count > maximum { text = String(text.prefix(maximum)) }
        return text
    }

    private func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    private mutating func word() -> String {
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett"]
        return words[between(0, words.count - 1)] + String(between(1, 999))
    }

    private mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        let groups = [8, 4, 4, 4, 12]
        return groups.map { count in String((0..<count).map { _ in hex[between(0, 15)] }) }.joined(separator: "-")
    }
}
