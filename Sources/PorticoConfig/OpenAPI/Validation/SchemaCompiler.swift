import Foundation

/// Compiles a document's schemas into `SchemaNode`s, once per config.
///
/// Reads OpenAPI 3.0's dialect (`nullable`, boolean `exclusiveMinimum`) and 3.1/3.2's JSON
/// Schema 2020-12 (`type` lists, `const`, `prefixItems`, numeric exclusive bounds, boolean
/// schemas). `$ref`s to the same place compile to the same node, so recursive schemas are a
/// cycle in the graph, and every schema is compiled once however many operations use it.
/// Keywords it does not check (`unevaluatedProperties`, `if`/`then`, `contentSchema`) are
/// listed in `config/README.md`.
final class SchemaCompiler {
    let document: OpenAPIDocument
    private var byReference: [String: SchemaNode] = [:]
    private var regexes: [String: NSRegularExpression?] = [:]
    /// Problems found while compiling (a pattern that is no regular expression, a `$ref` to
    /// nothing); each is checked no further and reported as a warning.
    private(set) var problems: [String] = []

    init(document: OpenAPIDocument) {
        self.document = document
    }

    func compile(_ schema: JSONValue) -> SchemaNode {
        let node = SchemaNode()
        fill(node, from: schema)
        return node
    }

    private func target(_ reference: String) -> SchemaNode? {
        if let known = byReference[reference] { return known }
        guard let value = document.lookup(reference) else {
            problems.append("$ref '\(reference)' leads nowhere; it is not checked")
            return nil
        }
        let node = SchemaNode()
        byReference[reference] = node
        fill(node, from: value)
        return node
    }

    /// A quantified group that itself ends in a quantifier (`(a+)+`, `(\\w*)*`, `(x{1,9})+`) can
    /// make a backtracking matcher take exponential time on a hostile string.
    private static let nestedQuantifier = try! NSRegularExpression(
        pattern: #"\((?:[^()\\]|\\.)*[+*}]\)[+*{]"#)

    private func regex(_ pattern: String) -> NSRegularExpression? {
        if let known = regexes[pattern] { return known }
        if Self.nestedQuantifier.firstMatch(in: pattern, range: NSRange(pattern.startIndex..., in: pattern)) != nil {
            problems.append(
                "pattern '\(pattern)' nests quantifiers, which a hostile string can make take exponential time; it is not checked"
            )
            regexes[pattern] = .some(nil)
            return nil
        }
        let compiled = try? NSRegularExpression(pattern: pattern)
        if compiled == nil {
            problems.append("pattern '\(pattern)' is not a regular expression Portico can read; it is not checked")
        }
        regexes[pattern] = compiled
        return compiled
    }

    private func fill(_ node: SchemaNode, from schema: JSONValue) {
        switch schema {
        case .bool(let allowed):
            node.rejectsAll = !allowed
            return
        case .object:
            break
        default:
            return
        }
        let fields = schema.fields
        func value(_ key: String) -> JSONValue? { fields.first { $0.0 == key }?.1 }
        func number(_ key: String) -> Double? { value(key)?.numberValue }
        func count(_ key: String) -> Int? { value(key)?.numberValue.flatMap { $0 >= 0 && $0 < 1e15 ? Int($0) : nil } }

        if let reference = value("$ref")?.string {
            node.reference = target(reference)
            node.nullable = value("nullable")?.bool == true
            // 3.0 ignores the siblings of $ref; 3.1 applies them too.
            if document.isVersion30 { return }
        }
        node.nullable = node.nullable || value("nullable")?.bool == true
        switch value("type") {
        case .string(let name)?:
            node.types = SchemaNode.Types(name: name)
        case .array(let names)?:
            var types: SchemaNode.Types = []
            for name in names { if let type = name.string.flatMap(SchemaNode.Types.init(name:)) { types.insert(type) } }
            node.types = types
        default:
            break
        }
        // `number` admits integers.
        if let types = node.types, types.contains(.number) { node.types = types.union(.integer) }
        if let values = value("enum")?.items {
            // A 3.0 `nullable` enum admits null without listing it.
            node.enumValues = values
            node.enumTexts = Set(values.map(\.jsonText))
            if node.nullable { node.enumTexts.insert("null") }
        }
        node.constant = value("const")
        node.minimum = number("minimum")
        node.maximum = number("maximum")
        switch value("exclusiveMinimum") {
        case .bool(true)?: node.exclusiveMinimum = node.minimum; node.minimum = nil
        case .number?: node.exclusiveMinimum = number("exclusiveMinimum")
        default: break
        }
        switch value("exclusiveMaximum") {
        case .bool(true)?: node.exclusiveMaximum = node.maximum; node.maximum = nil
        case .number?: node.exclusiveMaximum = number("exclusiveMaximum")
        default: break
        }
        node.multipleOf = number("multipleOf")
        node.minLength = count("minLength")
        node.maxLength = count("maxLength")
        if let pattern = value("pattern")?.string {
            node.pattern = regex(pattern)
            node.patternText = pattern
        }
        node.format = value("format")?.string.flatMap(SchemaFormat.init(rawValue:))
        node.minItems = count("minItems")
        node.maxItems = count("maxItems")
        node.uniqueItems = value("uniqueItems")?.bool == true
        switch value("items") {
        case .array(let tuple)?: node.prefixItems = tuple.map(compile)  // draft 4's tuple form, seen in 3.0 documents
        case let items?: node.items = compile(items)
        case nil: break
        }
        if let prefix = value("prefixItems")?.items { node.prefixItems = prefix.map(compile) }
        node.minProperties = count("minProperties")
        node.maxProperties = count("maxProperties")
        node.required = value("required")?.items.compactMap(\.string) ?? []
        for (name, property) in value("properties")?.fields ?? [] where node.properties[name] == nil {
            node.properties[name] = compile(property)
        }
        for (pattern, property) in value("patternProperties")?.fields ?? [] {
            if let regex = regex(pattern) { node.patternProperties.append((regex, compile(property))) }
        }
        switch value("additionalProperties") {
        case .bool(false)?: node.additional = .forbidden
        case .object(let fields)? where !fields.isEmpty: node.additional = .schema(compile(.object(fields)))
        default: break
        }
        for (name, dependents) in value("dependentRequired")?.fields ?? [] {
            node.dependentRequired.append((name, dependents.items.compactMap(\.string)))
        }
        node.allOf = (value("allOf")?.items ?? []).map(compile)
        node.anyOf = (value("anyOf")?.items ?? []).map(compile)
        node.oneOf = (value("oneOf")?.items ?? []).map(compile)
        node.not = value("not").map(compile)
        node.readOnly = value("readOnly")?.bool == true
        node.writeOnly = value("writeOnly")?.bool == true
        if let discriminator = value("discriminator"), let property = discriminator["propertyName"]?.string {
            var mapping: [String: SchemaNode] = [:]
            for (tag, reference) in discriminator["mapping"]?.fields ?? [] {
                guard let text = reference.string else { continue }
                let full = text.hasPrefix("#") ? text : "#/components/schemas/" + text
                if let branch = target(full) { mapping[tag] = branch }
            }
            // A branch the mapping does not name is tagged with its schema's name.
            for option in (value("oneOf")?.items ?? []) + (value("anyOf")?.items ?? []) {
                guard let reference = option["$ref"]?.string,
                    let name = reference.split(separator: "/").last.map(String.init),
                    mapping[name] == nil, let branch = target(reference),
                    !mapping.values.contains(where: { $0 === branch })
                else { continue }
                mapping[name] = branch
            }
            if !mapping.isEmpty { node.discriminator = (property, mapping) }
        }
    }
}

extension JSONValue {
    /// A number's value (also for a number written as a string, which some documents do).
    var numberValue: Double? {
        switch self {
        case .number(let text), .string(let text): return Double(text).flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }
}
