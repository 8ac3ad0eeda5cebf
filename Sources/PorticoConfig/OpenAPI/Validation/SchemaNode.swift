import Foundation

/// A compiled schema: OpenAPI 3.0's schema object or 3.1's JSON Schema 2020-12, reduced to the
/// checks it makes. Built once per config (`SchemaCompiler`) and shared by every request.
///
/// A class so that `$ref` cycles (a tree whose nodes hold nodes) compile to a graph; nodes are
/// mutated only while compiling, then read-only.
final class SchemaNode: @unchecked Sendable {
    struct Types: OptionSet, Sendable {
        let rawValue: UInt8
        static let null = Types(rawValue: 1)
        static let boolean = Types(rawValue: 2)
        static let object = Types(rawValue: 4)
        static let array = Types(rawValue: 8)
        static let number = Types(rawValue: 16)
        static let integer = Types(rawValue: 32)
        static let string = Types(rawValue: 64)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        init?(name: String) {
            switch name {
            case "null": self = .null
            case "boolean": self = .boolean
            case "object": self = .object
            case "array": self = .array
            case "number": self = .number
            case "integer": self = .integer
            case "string": self = .string
            default: return nil
            }
        }

        var names: String {
            let all: [(Types, String)] = [
                (.object, "object"), (.array, "array"), (.string, "string"), (.integer, "integer"), (.number, "number"),
                (.boolean, "boolean"), (.null, "null"),
            ]
            // `number` admits integers; saying so once is enough.
            return all.filter { contains($0.0) && !($0.0 == .integer && contains(.number)) }.map(\.1).joined(
                separator: " or ")
        }
    }

    enum Additional {
        case allowed
        case forbidden
        case schema(SchemaNode)
    }

    /// The schema `false`: nothing is valid.
    var rejectsAll = false
    var reference: SchemaNode?
    var types: Types?
    var nullable = false
    var enumValues: [JSONValue]?
    var enumTexts: Set<String> = []
    var constant: JSONValue?
    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    var multipleOf: Double?
    var minLength: Int?
    var maxLength: Int?
    var pattern: NSRegularExpression?
    var patternText = ""
    var format: SchemaFormat?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false
    var items: SchemaNode?
    var prefixItems: [SchemaNode] = []
    var minProperties: Int?
    var maxProperties: Int?
    var required: [String] = []
    var properties: [String: SchemaNode] = [:]
    var patternProperties: [(NSRegularExpression, SchemaNode)] = []
    var additional = Additional.allowed
    var dependentRequired: [(String, [String])] = []
    var allOf: [SchemaNode] = []
    var anyOf: [SchemaNode] = []
    var oneOf: [SchemaNode] = []
    var not: SchemaNode?
    /// `discriminator.propertyName` and its values' schemas (explicit `mapping`, else the names
    /// of the `oneOf`/`anyOf` references).
    var discriminator: (property: String, mapping: [String: SchemaNode])?
    var readOnly = false
    var writeOnly = false

    /// Validation calls nested deeper than this stop (a schema like `A: {allOf: [$ref: A]}`
    /// would otherwise recurse on the same value for ever).
    static let maximumDepth = 200

    // MARK: Validation

    enum Token {
        case key(String)
        case index(Int)
    }

    struct Context {
        let direction: ValidationDirection
        let root: String
        var path: [Token] = []
        var depth = 0

        var pointer: String {
            var text = root
            for token in path {
                switch token {
                case .key(let key): text += "/" + JSONPointer.escape(key)
                case .index(let index): text += "/" + String(index)
                }
            }
            return text
        }
    }

    func validate(_ value: JSONValue, _ context: inout Context, _ issues: inout IssueList) {
        guard !issues.isFull else { return }
        guard context.depth < Self.maximumDepth else {
            issues.add(context.pointer, "the schema nests deeper than \(Self.maximumDepth) levels here")
            return
        }
        context.depth += 1
        defer { context.depth -= 1 }
        if rejectsAll {
            issues.add(context.pointer, "is not allowed here")
            return
        }
        if nullable, case .null = value { return }
        if let reference {
            reference.validate(value, &context, &issues)
        }
        if let types, !Self.matches(value, types) {
            issues.add(context.pointer, "expected \(types.names), found \(Self.describe(value))")
            return
        }
        if let enumValues, !enumTexts.contains(value.jsonText) {
            let listed =
                enumValues.prefix(10).map(\.jsonText).joined(separator: ", ") + (enumValues.count > 10 ? ", …" : "")
            issues.add(context.pointer, "expected one of \(listed), found \(Self.describe(value))")
        }
        if let constant, constant.jsonText != value.jsonText {
            issues.add(context.pointer, "expected \(constant.jsonText), found \(Self.describe(value))")
        }
        switch value {
        case .number(let text): checkNumber(text, &context, &issues)
        case .string(let text): checkString(text, &context, &issues)
        case .array(let elements): checkArray(elements, &context, &issues)
        case .object(let fields): checkObject(fields, &context, &issues)
        case .null, .bool: break
        }
        for part in allOf { part.validate(value, &context, &issues) }
        if let discriminator, checkDiscriminator(discriminator, value, &context, &issues) {
            // The discriminator picked the branch; oneOf/anyOf are satisfied through it.
        } else {
            if !anyOf.isEmpty, !anyOf.contains(where: { $0.accepts(value, context) }) {
                issues.add(context.pointer, "matches none of the \(anyOf.count) schemas of anyOf")
            }
            if !oneOf.isEmpty {
                let matching = oneOf.count { $0.accepts(value, context) }
                if matching == 0 {
                    issues.add(context.pointer, "matches none of the \(oneOf.count) schemas of oneOf")
                } else if matching > 1 {
                    issues.add(context.pointer, "matches \(matching) of the schemas of oneOf; exactly one must match")
                }
            }
        }
        if let not, not.accepts(value, context) {
            issues.add(context.pointer, "must not match the schema under not")
        }
    }

    /// True when `value` passes this schema (for anyOf, oneOf and not).
    func accepts(_ value: JSONValue, _ context: Context) -> Bool {
        var scratch = IssueList(limit: 1)
        var copy = context
        validate(value, &copy, &scratch)
        return scratch.issues.isEmpty
    }

    /// Validates through the branch the discriminator names; false when it names none (the
    /// oneOf/anyOf checks then run as usual).
    private func checkDiscriminator(
        _ discriminator: (property: String, mapping: [String: SchemaNode]), _ value: JSONValue,
        _ context: inout Context,
        _ issues: inout IssueList
    ) -> Bool {
        guard case .object(let fields) = value, !(oneOf.isEmpty && anyOf.isEmpty) else { return false }
        guard let tag = fields.first(where: { $0.0 == discriminator.property })?.1 else {
            context.path.append(.key(discriminator.property))
            issues.add(context.pointer, "is required (the discriminator of this oneOf)")
            context.path.removeLast()
            return true
        }
        guard let name = tag.string, let branch = discriminator.mapping[name] else {
            context.path.append(.key(discriminator.property))
            let known = discriminator.mapping.keys.sorted().joined(separator: ", ")
            issues.add(context.pointer, "expected one of \(known), found \(Self.describe(tag))")
            context.path.removeLast()
            return true
        }
        branch.validate(value, &context, &issues)
        return true
    }

    private func checkNumber(_ text: String, _ context: inout Context, _ issues: inout IssueList) {
        if let format, let problem = format.problem(number: text) { issues.add(context.pointer, problem) }
        guard
            minimum != nil || maximum != nil || exclusiveMinimum != nil || exclusiveMaximum != nil || multipleOf != nil,
            let number = Double(text)
        else { return }
        if let minimum, number < minimum {
            issues.add(context.pointer, "expected at least \(Self.text(minimum)), found \(text)")
        }
        if let maximum, number > maximum {
            issues.add(context.pointer, "expected at most \(Self.text(maximum)), found \(text)")
        }
        if let exclusiveMinimum, number <= exclusiveMinimum {
            issues.add(context.pointer, "expected more than \(Self.text(exclusiveMinimum)), found \(text)")
        }
        if let exclusiveMaximum, number >= exclusiveMaximum {
            issues.add(context.pointer, "expected less than \(Self.text(exclusiveMaximum)), found \(text)")
        }
        if let multipleOf, multipleOf > 0 {
            let quotient = number / multipleOf
            if abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) {
                issues.add(context.pointer, "expected a multiple of \(Self.text(multipleOf)), found \(text)")
            }
        }
    }

    private func checkString(_ text: String, _ context: inout Context, _ issues: inout IssueList) {
        // Counting characters walks the string: skip it when the byte count already decides
        // (a string has at most as many characters as UTF-8 bytes, and at least a quarter).
        let bytes = text.utf8.count
        if (minLength.map { bytes < $0 || bytes / 4 < $0 } ?? false) || (maxLength.map { bytes > $0 } ?? false) {
            let length = text.unicodeScalars.count
            if let minLength, length < minLength {
                issues.add(context.pointer, "expected at least \(minLength) characters, found \(length)")
            }
            if let maxLength, length > maxLength {
                issues.add(context.pointer, "expected at most \(maxLength) characters, found \(length)")
            }
        }
        if let pattern {
            let range = NSRange(text.startIndex..., in: text)
            if pattern.firstMatch(in: text, range: range) == nil {
                issues.add(
                    context.pointer, "expected text matching \(patternText), found \(Self.describe(.string(text)))")
            }
        }
        if let format, let problem = format.problem(text) { issues.add(context.pointer, problem) }
    }

    private func checkArray(_ elements: [JSONValue], _ context: inout Context, _ issues: inout IssueList) {
        if let minItems, elements.count < minItems {
            issues.add(context.pointer, "expected at least \(minItems) items, found \(elements.count)")
        }
        if let maxItems, elements.count > maxItems {
            issues.add(context.pointer, "expected at most \(maxItems) items, found \(elements.count)")
        }
        if uniqueItems {
            var seen: Set<String> = []
            for (index, element) in elements.enumerated() where !seen.insert(element.jsonText).inserted {
                context.path.append(.index(index))
                issues.add(context.pointer, "repeats an earlier item; the items must be unique")
                context.path.removeLast()
                break
            }
        }
        for (index, element) in elements.enumerated() {
            guard !issues.isFull else { return }
            let schema = index < prefixItems.count ? prefixItems[index] : items
            guard let schema else { continue }
            context.path.append(.index(index))
            schema.validate(element, &context, &issues)
            context.path.removeLast()
        }
    }

    private func checkObject(_ fields: [(String, JSONValue)], _ context: inout Context, _ issues: inout IssueList) {
        if let minProperties, fields.count < minProperties {
            issues.add(context.pointer, "expected at least \(minProperties) properties, found \(fields.count)")
        }
        if let maxProperties, fields.count > maxProperties {
            issues.add(context.pointer, "expected at most \(maxProperties) properties, found \(fields.count)")
        }
        for name in required where !fields.contains(where: { $0.0 == name }) {
            // A read-only property is the server's to send; a write-only one the client's.
            if let property = properties[name], property.isOneSided(for: context.direction) { continue }
            context.path.append(.key(name))
            issues.add(context.pointer, "is required")
            context.path.removeLast()
        }
        for (name, dependents) in dependentRequired where fields.contains(where: { $0.0 == name }) {
            for dependent in dependents where !fields.contains(where: { $0.0 == dependent }) {
                context.path.append(.key(dependent))
                issues.add(context.pointer, "is required when \(name) is present")
                context.path.removeLast()
            }
        }
        for (name, value) in fields {
            guard !issues.isFull else { return }
            context.path.append(.key(name))
            defer { context.path.removeLast() }
            if let property = properties[name] {
                if property.isOneSided(for: context.direction) {
                    issues.add(
                        context.pointer,
                        context.direction == .request
                            ? "is read-only and may not be sent" : "is write-only and may not be returned")
                    continue
                }
                property.validate(value, &context, &issues)
                continue
            }
            var matched = false
            for (pattern, schema) in patternProperties
            where pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil {
                matched = true
                schema.validate(value, &context, &issues)
            }
            if matched { continue }
            switch additional {
            case .allowed: break
            case .forbidden: issues.add(context.pointer, "is not a known property (additionalProperties is false)")
            case .schema(let schema): schema.validate(value, &context, &issues)
            }
        }
    }

    /// True for a `readOnly` property in a request or a `writeOnly` one in a response.
    private func isOneSided(for direction: ValidationDirection) -> Bool {
        let node = reference.map { $0.readOnly || $0.writeOnly ? $0 : self } ?? self
        switch direction {
        case .request: return readOnly || node.readOnly
        case .response: return writeOnly || node.writeOnly
        }
    }

    // MARK: Descriptions

    static func matches(_ value: JSONValue, _ types: Types) -> Bool {
        switch value {
        case .null: return types.contains(.null)
        case .bool: return types.contains(.boolean)
        case .object: return types.contains(.object)
        case .array: return types.contains(.array)
        case .string: return types.contains(.string)
        case .number(let text):
            if types.contains(.number) { return true }
            return types.contains(.integer) && isInteger(text)
        }
    }

    /// `3`, `-4`, `1e3` and `2.0` are integers (JSON Schema counts the value, not how it is written).
    static func isInteger(_ text: String) -> Bool {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
        {
            return true
        }
        guard let value = Double(text), value.isFinite else { return false }
        return value.rounded() == value
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "boolean \(flag)"
        case .number(let text): return "number \(text.count > 40 ? String(text.prefix(40)) + "…" : text)"
        case .string(let text):
            let shown =
                text.unicodeScalars.count > 40
                ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(40))) + "…" : text
            return "string " + JSONText.quote(shown)
        case .array(let items): return "an array of \(items.count)"
        case .object: return "an object"
        }
    }

    static func text(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}
