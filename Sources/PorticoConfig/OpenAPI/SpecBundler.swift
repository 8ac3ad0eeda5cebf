import Foundation
import Yams

/// Turns a document spread over files into one tree whose `$ref`s are all local, the way
/// `redocly bundle` does, so the portal, the mock and the validators read a single tree.
///
/// A reference to a schema in another file adds that schema to `components.schemas` once, under
/// the name its pointer or file gives (`models/droplet.yml` → `droplet`, numbered when taken),
/// and points there; cycles between files are therefore fine. A reference to anything else (a
/// path item, a parameter, a response) is copied in place, as those cannot be recursive; a
/// cycle among them is reported. Local references of the root stay as written; local references
/// inside another file mean that file.
struct SpecBundler {
    let files: SpecFiles

    /// External schemas already given a name, by file and pointer.
    private var names: [SpecReference: String] = [:]
    private var taken: Set<String> = []
    private var added: [(String, JSONValue)] = []
    /// The non-schema references being copied, to catch cycles.
    private var copying: [SpecReference] = []

    init(files: SpecFiles) {
        self.files = files
    }

    /// What a key holds, which decides how a `$ref` below it is followed.
    enum Context {
        /// OpenAPI objects: path items, operations, parameters, responses.
        case structure
        case schema
        /// A map whose values are schemas (`properties`, `components.schemas`).
        case schemaMap
        /// A list whose items are schemas (`allOf`, `prefixItems`).
        case schemaList
        /// Examples, defaults, enums and extensions: copied as they are.
        case data
    }

    mutating func bundle(_ root: ConfigNode) -> JSONValue {
        if case .mapping(let schemas)? = root.node.value(forKey: "components")?.value(forKey: "schemas") {
            for (key, _) in schemas { if let name = key.string { taken.insert(name) } }
        }
        var document = convert(root, file: files.rootPath, context: .structure, parentKey: nil)
        guard !added.isEmpty else { return document }
        var fields = document.fields
        var components = fields.first { $0.0 == "components" }?.1.fields ?? []
        let schemas = (components.first { $0.0 == "schemas" }?.1.fields ?? []) + added
        components.removeAll { $0.0 == "schemas" }
        components.append(("schemas", .object(schemas)))
        fields.removeAll { $0.0 == "components" }
        fields.append(("components", .object(components)))
        document = .object(fields)
        return document
    }

    private mutating func convert(_ node: ConfigNode, file: String, context: Context, parentKey: String?) -> JSONValue {
        switch node.node {
        case .scalar, .alias:
            return JSONValue(node.node)
        case .sequence(let items):
            let itemContext: Context
            switch context {
            case .schemaList, .schema: itemContext = .schema
            case .data: itemContext = .data
            case .structure, .schemaMap: itemContext = .structure
            }
            return .array(items.map { convert(node.child($0), file: file, context: itemContext, parentKey: parentKey) })
        case .mapping(let mapping):
            if context != .data, case .scalar(let scalar)? = mapping.first(where: { $0.key.string == "$ref" })?.value {
                return reference(scalar.string, in: node, mapping: mapping, file: file, context: context)
            }
            var fields: [(String, JSONValue)] = []
            fields.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                let name = key.string ?? ""
                let child = childContext(context, key: name, parentKey: parentKey)
                if context == .schema, name == "discriminator" {
                    fields.append((name, discriminator(node.child(value), file: file)))
                    continue
                }
                fields.append((name, convert(node.child(value), file: file, context: child, parentKey: name)))
            }
            return .object(fields)
        }
    }

    private func childContext(_ context: Context, key: String, parentKey: String?) -> Context {
        switch context {
        case .data: return .data
        case .schemaMap: return .schema
        case .schemaList: return .schema
        case .schema:
            switch key {
            case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas": return .schemaMap
            case "allOf", "anyOf", "oneOf", "prefixItems": return .schemaList
            case "items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames",
                "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema":
                return .schema
            case "example", "examples", "enum", "const", "default": return .data
            default: return key.hasPrefix("x-") ? .data : .structure
            }
        case .structure:
            if key.hasPrefix("x-") { return .data }
            switch key {
            case "schema": return .schema
            case "schemas" where parentKey == "components": return .schemaMap
            // Not `default`: in `responses` it is a status, not a value.
            case "example", "value": return .data
            default: return .structure
            }
        }
    }

    /// A `$ref` object: kept when it stays in the root, else hoisted (schemas) or copied in place.
    private mutating func reference(
        _ text: String, in node: ConfigNode, mapping: Node.Mapping, file: String, context: Context
    ) -> JSONValue {
        // Siblings of $ref (a description, 3.1's summary) are kept beside it.
        let siblings: [(String, JSONValue)] = mapping.compactMap { key, value in
            guard let name = key.string, name != "$ref" else { return nil }
            return (name, JSONValue(value))
        }
        guard case .success(let parsed) = SpecReference.parse(text), !(parsed.file.isEmpty && file == files.rootPath)
        else {
            if case .failure(let problem) = SpecReference.parse(text) { node.report(problem.description) }
            return .object([("$ref", .string(text))] + siblings)
        }
        guard let target = files.resolve(text, from: file, at: node) else { return .object(siblings) }
        if target.file == files.rootPath {
            return .object([("$ref", .string(SpecReference.fragment(target.reference.pointer)))] + siblings)
        }
        if context == .schema || context == .schemaMap || context == .schemaList {
            let name = schemaName(target.reference, node: target.node)
            return .object([("$ref", .string("#/components/schemas/" + name))] + siblings)
        }
        guard !copying.contains(target.reference) else {
            let chain = (copying + [target.reference]).map {
                files.display($0.file) + SpecReference.fragment($0.pointer)
            }
            node.report("circular $ref: \(chain.joined(separator: " → "))")
            return .object(siblings)
        }
        copying.append(target.reference)
        defer { copying.removeLast() }
        let copied = convert(target.node, file: target.file, context: context, parentKey: nil)
        guard !siblings.isEmpty, case .object(var fields) = copied else { return copied }
        for (key, value) in siblings {
            fields.removeAll { $0.0 == key }
            fields.append((key, value))
        }
        return .object(fields)
    }

    /// The name an external schema has in `components.schemas`, adding it on first use.
    private mutating func schemaName(_ reference: SpecReference, node: ConfigNode) -> String {
        if let name = names[reference] { return name }
        var base =
            reference.pointer.last ?? ((reference.file as NSString).lastPathComponent as NSString).deletingPathExtension
        base = String(base.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        if base.isEmpty { base = "schema" }
        var name = base
        var number = 2
        while taken.contains(name) {
            name = "\(base)_\(number)"
            number += 1
        }
        taken.insert(name)
        names[reference] = name
        // Reserve the slot first: the schema may refer back to itself through other files.
        let slot = added.count
        added.append((name, .null))
        added[slot].1 = convert(node, file: reference.file, context: .schema, parentKey: nil)
        return name
    }

    /// A discriminator's `mapping` may name schemas in other files; they are hoisted like `$ref`s.
    private mutating func discriminator(_ node: ConfigNode, file: String) -> JSONValue {
        guard case .mapping(let mapping) = node.node else { return JSONValue(node.node) }
        var fields: [(String, JSONValue)] = []
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard name == "mapping", case .mapping(let entries) = value else {
                fields.append((name, JSONValue(value)))
                continue
            }
            var rewritten: [(String, JSONValue)] = []
            for (entryKey, entryValue) in entries {
                guard let text = entryValue.string, text.contains("#") || text.contains("/") || text.contains(".")
                else {
                    rewritten.append((entryKey.string ?? "", JSONValue(entryValue)))
                    continue
                }
                let converted = reference(
                    text, in: node.child(entryValue), mapping: Node.Mapping([("$ref", entryValue)]), file: file,
                    context: .schema)
                rewritten.append((entryKey.string ?? "", converted["$ref"] ?? .string(text)))
            }
            fields.append((name, .object(rewritten)))
        }
        return .object(fields)
    }
}
