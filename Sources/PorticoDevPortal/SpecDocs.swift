internal import Foundation
import PorticoConfig
import PorticoGateway
import PorticoStore

/// The portal's documentation of one API version, built once per config from its OpenAPI document
/// (or, for an API without one, from its routes).
///
/// A large document is never sent whole: the index (operations, tags, schema names) is one small
/// answer and each operation and schema another. Schemas are sent once, by name: an operation's
/// page expands the schemas its parameters and bodies name directly (one level, with `allOf`
/// merged) and gives every schema below them as `{"ref": name}`, which the portal fetches from
/// its own page when the reader opens it. Cycles are cut at the repeated schema, deep inline
/// trees at `maxDepth`, and a page's trees at `nodeBudget` nodes.
struct SpecDocs: Sendable {
    let api: String
    let version: String
    /// `{api, version, title, description, base_path, versioning, deprecated…, tags, operations, schemas}`.
    let indexJSON: String
    /// Each operation's page, by its id.
    let operations: [String: String]
    /// Each component schema's page, by name.
    let schemas: [String: String]
    let searchEntries: [SearchEntry]
    let operationCount: Int
    let title: String
    let description: String
    let tags: [String]

    static let maxDepth = 6
    static let nodeBudget = 4000

    /// One searchable thing: an operation, a parameter or a schema.
    struct SearchEntry: Sendable {
        enum Kind: String, Sendable { case operation, parameter, schema }
        var kind: Kind
        /// The operation id or schema name the hit links to.
        var target: String
        var title: String
        var detail: String
        /// Lower-cased text the query is matched against; the title's words count more.
        var titleText: String
        var bodyText: String
    }

    init(api: APIConfig, config: GatewayConfig, document: OpenAPIDocument?) {
        self.api = api.name
        self.version = api.version ?? ""
        let builder = Builder(api: api, config: config, document: document?.root ?? .null, bundle: document)
        let built = builder.build()
        indexJSON = built.index.jsonText
        operations = built.operations.mapValues(\.jsonText)
        schemas = built.schemas.mapValues(\.jsonText)
        searchEntries = built.search
        operationCount = built.operations.count
        title = built.title
        description = built.description
        tags = built.tags
    }

    /// A date as `2026-12-01` (UTC): the day of the gateway's one timestamp format.
    static func day(_ date: Date) -> String {
        String(CallRecord.timestamp(date).prefix(10))
    }

    /// Makes an operation id usable in a URL fragment: `GET /pets/{id}` → `get-pets-id`.
    static func slug(method: String, path: String) -> String {
        var out = method.lowercased()
        var lastDash = false
        for character in path.lowercased() {
            if character.isLetter || character.isNumber {
                if lastDash || out.count == method.count { out.append("-") }
                out.append(character)
                lastDash = false
            } else {
                lastDash = true
            }
        }
        return out
    }
}

extension SpecDocs {
    fileprivate struct Built {
        var index: JSONValue
        var operations: [String: JSONValue]
        var schemas: [String: JSONValue]
        var search: [SearchEntry]
        var title: String
        var description: String
        var tags: [String]
    }

    fileprivate struct Builder {
        let api: APIConfig
        let config: GatewayConfig
        let document: JSONValue
        let bundle: OpenAPIDocument?
        let components: JSONValue
        /// True when no operation of the document has tags: operations are then grouped by the
        /// first segment of their path.
        let untagged: Bool

        init(api: APIConfig, config: GatewayConfig, document: JSONValue, bundle: OpenAPIDocument?) {
            self.api = api
            self.config = config
            self.document = document
            self.bundle = bundle
            self.components = document["components"] ?? .null
            let operations = (document["paths"]?.fields ?? []).flatMap { $0.1.fields.map(\.1) }
            self.untagged = !operations.contains { !($0["tags"]?.items ?? []).isEmpty }
        }

        /// `GET /users/{id}/orders` → `Get users › orders by id`, for operations without a summary.
        static func readableTitle(method: String, path: String) -> String {
            let verbs = [
                "GET": "Get", "POST": "Create", "PUT": "Replace", "PATCH": "Update", "DELETE": "Delete",
                "HEAD": "Check",
            ]
            let verb = verbs[method] ?? method.prefix(1).uppercased() + method.dropFirst().lowercased()
            var words: [String] = []
            for segment in PathTemplate.segments(of: path) {
                // A segment with parameters inside (`{name}.json`) is said by its parameters.
                if case .literal(let text) = segment { words.append(text) }
            }
            let parameters = PathTemplate.parameterNames(of: path)
            var title = verb + (words.isEmpty ? "" : " " + words.joined(separator: " › "))
            if !parameters.isEmpty { title += " by " + parameters.joined(separator: " and ") }
            return title
        }

        /// The first literal segment of a path, for grouping a document without tags.
        static func firstSegment(_ path: String) -> String {
            for segment in PathTemplate.segments(of: path) { if case .literal(let text) = segment { return text } }
            return ""
        }

        func build() -> Built {
            let info = document["info"] ?? .null
            let title = info["title"]?.string ?? api.name
            let description = info["description"]?.string ?? ""
            var operations: [String: JSONValue] = [:]
            var index: [JSONValue] = []
            var search: [SearchEntry] = []
            var tagOrder: [String] = (document["tags"]?.items ?? []).compactMap { $0["name"]?.string }
            var tagDescriptions: [String: String] = [:]
            for tag in document["tags"]?.items ?? [] {
                if let name = tag["name"]?.string { tagDescriptions[name] = tag["description"]?.string }
            }

            for entry in entries() {
                let id = uniqueID(entry.id, taken: operations)
                var tags = entry.operation["tags"]?.items.compactMap(\.string) ?? []
                if tags.isEmpty, untagged, case let group = Self.firstSegment(entry.path), !group.isEmpty {
                    tags = [group]
                }
                for tag in tags where !tagOrder.contains(tag) { tagOrder.append(tag) }
                // A route of the config (no document) is titled by its name; an operation by its summary.
                let configName = api.openAPIFile == nil ? entry.route?.name : nil
                let summary =
                    entry.operation["summary"]?.string ?? configName
                    ?? Self.readableTitle(method: entry.method, path: entry.path)
                let deprecated = entry.lifecycle.deprecated != nil
                var row: [(String, JSONValue)] = [
                    ("id", .string(id)), ("method", .string(entry.method)), ("path", .string(entry.publicPath)),
                    ("summary", .string(summary)), ("tags", .array(tags.map(JSONValue.string))),
                ]
                if deprecated { row.append(("deprecated", .bool(true))) }
                index.append(.object(row))
                let page = operationPage(entry, id: id, summary: summary, tags: tags)
                operations[id] = page.value
                search.append(
                    SearchEntry(
                        kind: .operation, target: id, title: "\(entry.method) \(entry.publicPath)", detail: summary,
                        titleText: "\(entry.method) \(entry.publicPath) \(id)".lowercased(),
                        bodyText: (summary + " " + (entry.operation["description"]?.string ?? "") + " "
                            + tags.joined(separator: " "))
                            .lowercased()))
                for parameter in page.parameters {
                    search.append(
                        SearchEntry(
                            kind: .parameter, target: id, title: "\(parameter.name) (\(parameter.location))",
                            detail: "\(entry.method) \(entry.publicPath)", titleText: parameter.name.lowercased(),
                            bodyText: parameter.description.lowercased()))
                }
            }

            var schemas: [String: JSONValue] = [:]
            var schemaNames: [JSONValue] = []
            for (name, schema) in components["schemas"]?.fields ?? [] {
                var budget = nodeBudget
                let tree = render(schema, depth: 0, trail: ["#/components/schemas/" + name], budget: &budget)
                schemas[name] = .object([("name", .string(name)), ("schema", tree)])
                schemaNames.append(.string(name))
                let properties = (schema["properties"]?.fields ?? []).map(\.0)
                search.append(
                    SearchEntry(
                        kind: .schema, target: name, title: name, detail: schema["description"]?.string ?? "",
                        titleText: name.lowercased(),
                        bodyText: ((schema["description"]?.string ?? "") + " " + properties.joined(separator: " "))
                            .lowercased()))
            }

            let untagged = index.contains { ($0["tags"]?.items ?? []).isEmpty }
            let tagList: [JSONValue] =
                tagOrder.map { name in
                    .object([("name", .string(name)), ("description", .string(tagDescriptions[name] ?? ""))])
                } + (untagged ? [.object([("name", .string("")), ("description", .string(""))])] : [])
            var top: [(String, JSONValue)] = [
                ("api", .string(api.name)), ("version", .string(api.version ?? "")), ("title", .string(title)),
                ("description", .string(description)), ("base_path", .string(api.basePath)),
                ("versioning", versioning), ("lifecycle", lifecycleJSON(api.lifecycle)),
                ("has_document", .bool(api.openAPIFile != nil)),
                ("tags", .array(tagList)), ("operations", .array(index)), ("schemas", .array(schemaNames)),
            ]
            if let version = info["version"]?.text { top.append(("document_version", .string(version))) }
            return Built(
                index: .object(top), operations: operations, schemas: schemas, search: search, title: title,
                description: description, tags: tagOrder)
        }

        /// How a request names this version; the try-it form adds the header or parameter.
        var versioning: JSONValue {
            var fields: [(String, JSONValue)] = [("by", .string(api.versioning.by.rawValue))]
            if api.version != nil, api.versioning.by != .path {
                fields.append(("parameter", .string(api.versioning.parameter)))
                let value =
                    api.versioning.by == .mediaType
                    ? "application/vnd.\(api.versioning.name ?? api.name).\(api.version ?? "")+json"
                    : (api.version ?? "")
                fields.append(("value", .string(value)))
            }
            fields.append(("default", .bool(api.isDefaultVersion)))
            return .object(fields)
        }

        // MARK: Operations

        struct Entry {
            var id: String
            var method: String
            var path: String
            var publicPath: String
            var operation: JSONValue
            var pathItem: JSONValue
            var route: RouteConfig?
            var lifecycle: LifecycleConfig
        }

        /// The document's operations in file order, each with its route; routes of an API without a document.
        func entries() -> [Entry] {
            let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            var entries: [Entry] = []
            guard case .object(let paths)? = document["paths"] else {
                for route in api.routes {
                    let path = PathTemplate.join(api.basePath, route.path)
                    for method in route.methods.isEmpty ? ["ANY"] : route.methods {
                        entries.append(
                            Entry(
                                id: route.name.map(Self.cleanID) ?? SpecDocs.slug(method: method, path: path),
                                method: method,
                                path: route.path, publicPath: path,
                                operation: EndpointDocs.operation(for: route)
                                    ?? .object([("summary", .string(route.name ?? ""))]),
                                pathItem: .null, route: route, lifecycle: api.lifecycle.overridden(by: route.lifecycle))
                        )
                    }
                }
                return entries
            }
            for (path, item) in paths {
                for (key, operation) in item.fields where methods.contains(key.lowercased()) {
                    let method = key.uppercased()
                    let template = "/" + path.split(separator: "/").joined(separator: "/")
                    let route = api.routes.first { $0.methods.contains(method) && $0.path == template }
                    var lifecycle = api.lifecycle.overridden(by: route?.lifecycle ?? .init())
                    if operation["deprecated"]?.bool == true, lifecycle.deprecated == nil {
                        lifecycle.deprecated = .distantPast
                    }
                    let id =
                        operation["operationId"]?.string.map(Self.cleanID) ?? SpecDocs.slug(method: method, path: path)
                    entries.append(
                        Entry(
                            id: id, method: method, path: path, publicPath: PathTemplate.join(api.basePath, template),
                            operation: operation, pathItem: item, route: route, lifecycle: lifecycle))
                }
            }
            // Endpoints of the config beside the document's operations.
            for route in api.routes {
                guard let operation = EndpointDocs.operation(for: route) else { continue }
                let path = PathTemplate.join(api.basePath, route.path)
                for method in route.methods {
                    entries.append(
                        Entry(
                            id: route.name.map(Self.cleanID) ?? SpecDocs.slug(method: method, path: path),
                            method: method, path: route.path,
                            publicPath: path, operation: operation, pathItem: .null, route: route,
                            lifecycle: api.lifecycle.overridden(by: route.lifecycle)))
                }
            }
            return entries
        }

        /// Ids go into URL fragments and file-like paths: keep letters, digits, `-`, `_` and `.`.
        static func cleanID(_ id: String) -> String {
            let kept = id.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }
            return kept.isEmpty ? "operation" : String(kept)
        }

        func uniqueID(_ id: String, taken: [String: JSONValue]) -> String {
            guard taken[id] != nil else { return id }
            var number = 2
            while taken["\(id)-\(number)"] != nil { number += 1 }
            return "\(id)-\(number)"
        }

        struct ParameterSummary {
            var name: String
            var location: String
            var description: String
        }

        func operationPage(
            _ entry: Entry, id: String, summary: String, tags: [String]
        ) -> (value: JSONValue, parameters: [ParameterSummary]) {
            var budget = nodeBudget
            let operation = entry.operation
            // Path-level parameters apply unless the operation redefines one (same name and place).
            var parameters: [JSONValue] = []
            var summaries: [ParameterSummary] = []
            let own = (operation["parameters"]?.items ?? []).map { resolveRef($0) }
            let inherited = (entry.pathItem["parameters"]?.items ?? []).map { resolveRef($0) }.filter { shared in
                !own.contains {
                    $0["name"]?.string == shared["name"]?.string && $0["in"]?.string == shared["in"]?.string
                }
            }
            for parameter in inherited + own {
                let name = parameter["name"]?.string ?? ""
                let location = parameter["in"]?.string ?? "query"
                let description = parameter["description"]?.string ?? ""
                var fields: [(String, JSONValue)] = [
                    ("name", .string(name)), ("in", .string(location)),
                    ("required", .bool(parameter["required"]?.bool ?? (location == "path"))),
                    ("description", .string(description)),
                    ("schema", parameter["schema"].map { render($0, depth: 0, trail: [], budget: &budget) } ?? .null),
                ]
                if parameter["deprecated"]?.bool == true { fields.append(("deprecated", .bool(true))) }
                if let example = example(of: parameter) { fields.append(("example", example)) }
                parameters.append(.object(fields))
                summaries.append(ParameterSummary(name: name, location: location, description: description))
            }

            var page: [(String, JSONValue)] = [
                ("id", .string(id)), ("method", .string(entry.method)), ("path", .string(entry.publicPath)),
                ("summary", .string(summary)), ("description", .string(operation["description"]?.string ?? "")),
                ("tags", .array(tags.map(JSONValue.string))), ("lifecycle", lifecycleJSON(entry.lifecycle)),
                ("parameters", .array(parameters)),
            ]
            if let body = operation["requestBody"].map({ resolveRef($0) }) {
                page.append(
                    (
                        "request_body",
                        .object([
                            ("required", .bool(body["required"]?.bool ?? false)),
                            ("description", .string(body["description"]?.string ?? "")),
                            ("content", content(body["content"], budget: &budget)),
                        ])
                    ))
            }
            var responses: [JSONValue] = []
            for (status, raw) in operation["responses"]?.fields ?? [] {
                let response = resolveRef(raw)
                var headers: [JSONValue] = []
                for (name, rawHeader) in response["headers"]?.fields ?? [] {
                    let header = resolveRef(rawHeader)
                    headers.append(
                        .object([
                            ("name", .string(name)), ("description", .string(header["description"]?.string ?? "")),
                            (
                                "schema",
                                header["schema"].map { render($0, depth: 0, trail: [], budget: &budget) } ?? .null
                            ),
                        ]))
                }
                responses.append(
                    .object([
                        ("status", .string(status)), ("description", .string(response["description"]?.string ?? "")),
                        ("headers", .array(headers)), ("content", content(response["content"], budget: &budget)),
                    ]))
            }
            page.append(("responses", .array(responses)))
            page.append(("auth", auth(entry.route)))
            page.append(("limits", limits(entry.route)))
            if budget <= 0 { page.append(("truncated", .bool(true))) }
            return (.object(page), summaries)
        }

        /// `[{media_type, schema, example}]` of a `content` map.
        func content(_ node: JSONValue?, budget: inout Int) -> JSONValue {
            var list: [JSONValue] = []
            for (mediaType, rawMedia) in node?.fields ?? [] {
                let media = resolveRef(rawMedia)
                var fields: [(String, JSONValue)] = [
                    ("media_type", .string(mediaType)),
                    ("schema", media["schema"].map { render($0, depth: 0, trail: [], budget: &budget) } ?? .null),
                ]
                if let example = example(of: media) ?? media["schema"].flatMap({ resolveRef($0)["example"] }) {
                    fields.append(("example", example))
                } else if let bundle, let schema = media["schema"] {
                    // A small value shaped like the schema, for a body without an example.
                    var sampler = SchemaSampler(document: bundle, random: nil, maximumValues: 200)
                    fields.append(("example", sampler.sample(schema)))
                }
                list.append(.object(fields))
            }
            return .array(list)
        }

        /// `example`, or the first of `examples` (Example Objects by name, or a 3.1 list).
        func example(of node: JSONValue) -> JSONValue? {
            if let example = node["example"] { return example }
            switch node["examples"] {
            case .object(let examples)?:
                return examples.first.map { resolveRef($0.1) }.flatMap { $0["value"] }
            case .array(let list)?:
                return list.first
            default:
                return nil
            }
        }

        /// The methods that may call the route: alternatives, each a list of steps.
        func auth(_ route: RouteConfig?) -> JSONValue {
            let requirement = route?.policies.access.auth ?? api.policies.access.auth
            guard let requirement else { return .object([("required", .bool(false)), ("alternatives", .array([]))]) }
            let methods = Dictionary(config.auth.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let alternatives: [JSONValue] = requirement.alternatives.map { steps in
                .array(
                    steps.map { step in
                        var fields: [(String, JSONValue)] = [("method", .string(step.method))]
                        if let method = methods[step.method] { fields += Self.described(method) }
                        fields.append(("scopes", .array(step.scopes.map(JSONValue.string))))
                        return .object(fields)
                    })
            }
            let scopes = route?.policies.access.scopes ?? api.policies.access.scopes ?? []
            return .object([
                ("required", .bool(!requirement.alternatives.isEmpty && !requirement.optional)),
                ("alternatives", .array(alternatives)), ("scopes", .array(scopes.map(JSONValue.string))),
            ])
        }

        /// `type`, and where the credential goes, of an auth method, as `GET …/api/portal` gives it.
        static func described(_ method: AuthMethodConfig) -> [(String, JSONValue)] {
            let described = PortalHandler.describe(method)
            let places = [("header", described.header), ("query", described.query), ("scheme", described.scheme)]
            return [("type", .string(described._type.rawValue))]
                + places.compactMap { key, value in value.map { (key, JSONValue.string($0)) } }
        }

        /// The route's own limits (the developer's plan comes from `/api/me/limits`).
        func limits(_ route: RouteConfig?) -> JSONValue {
            let limits = route?.policies.limits.rateLimits ?? api.policies.limits.rateLimits ?? []
            return .array(
                limits.map { limit in
                    var fields: [(String, JSONValue)] = [
                        ("by", .string(limit.by.map(\.description).joined(separator: "+")))
                    ]
                    if let name = limit.name { fields.append(("name", .string(name))) }
                    if let rate = limit.rate { fields.append(("rate", .string(rate.description))) }
                    if let quota = limit.quota { fields.append(("quota", .string(quota.description))) }
                    return .object(fields)
                })
        }

        func lifecycleJSON(_ lifecycle: LifecycleConfig) -> JSONValue {
            var fields: [(String, JSONValue)] = []
            if let deprecated = lifecycle.deprecated {
                fields.append(
                    ("deprecated", deprecated == .distantPast ? .bool(true) : .string(SpecDocs.day(deprecated))))
            }
            if let sunset = lifecycle.sunset { fields.append(("sunset", .string(SpecDocs.day(sunset)))) }
            if let successor = lifecycle.successor { fields.append(("successor", .string(successor))) }
            if let docs = lifecycle.docs { fields.append(("docs", .string(docs))) }
            return .object(fields)
        }

        // MARK: Schemas

        /// Follows local `$ref`s (`#/components/...`) until a non-reference object.
        func resolveRef(_ node: JSONValue) -> JSONValue {
            var current = node
            for _ in 0..<8 {
                guard let reference = current["$ref"]?.string, let target = lookup(reference) else { return current }
                current = target
            }
            return current
        }

        func lookup(_ reference: String) -> JSONValue? {
            guard reference.hasPrefix("#/") else { return nil }
            var current = document
            for part in reference.dropFirst(2).split(separator: "/") {
                let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = current[key] else { return nil }
                current = next
            }
            return current
        }

        static func refName(_ reference: String) -> String {
            reference.split(separator: "/").last.map(String.init) ?? reference
        }

        /// A schema as the portal shows it. `trail` holds the references being expanded, to stop cycles.
        func render(_ node: JSONValue, depth: Int, trail: [String], budget: inout Int) -> JSONValue {
            budget -= 1
            var schema = node
            var out: [(String, JSONValue)] = []
            var trail = trail
            if let reference = schema["$ref"]?.string {
                out.append(("ref", .string(Self.refName(reference))))
                if trail.contains(reference) { return .object(out + [("circular", .bool(true))]) }
                // Below the top, a component schema is named, not inlined: it is sent once, on its own page.
                let named = reference.hasPrefix("#/components/schemas/")
                if (named && depth > 0) || depth >= maxDepth || budget <= 0 {
                    if let description = schema["description"]?.string {
                        out.append(("description", .string(description)))
                    }
                    return .object(out + [("collapsed", .bool(true))])
                }
                guard let target = lookup(reference) else { return .object(out + [("unresolved", .string(reference))]) }
                trail.append(reference)
                // 3.1 allows siblings next to $ref; a description there describes this use.
                if let description = schema["description"]?.string { out.append(("description", .string(description))) }
                schema = target
            }
            if let parts = schema["allOf"]?.items, !parts.isEmpty {
                var from: [JSONValue] = []
                schema = merge(schema, parts: parts, from: &from, trail: trail)
                if !from.isEmpty { out.append(("merged_from", .array(from))) }
            }
            var type = schema["type"]?.string
            var nullable = schema["nullable"]?.bool ?? false
            if case .array(let types)? = schema["type"] {
                let names = types.compactMap(\.string)
                nullable = nullable || names.contains("null")
                type = names.filter { $0 != "null" }.joined(separator: " | ")
            }
            if type == nil, schema["properties"] != nil { type = "object" }
            if type == nil, schema["items"] != nil { type = "array" }
            if let type, !type.isEmpty { out.append(("type", .string(type))) }
            for key in ["format", "title"] { if let value = schema[key]?.string { out.append((key, .string(value))) } }
            if nullable { out.append(("nullable", .bool(true))) }
            if !out.contains(where: { $0.0 == "description" }), let description = schema["description"]?.string {
                out.append(("description", .string(description)))
            }
            for key in ["enum", "default", "example", "const"] {
                if let value = schema[key] { out.append((key, value)) }
            }
            if let constraints = constraints(schema) { out.append(("constraints", .string(constraints))) }
            for (key, name) in [("readOnly", "read_only"), ("writeOnly", "write_only"), ("deprecated", "deprecated")]
            where schema[key]?.bool == true {
                out.append((name, .bool(true)))
            }
            if let properties = schema["properties"]?.fields {
                let required = Set(schema["required"]?.items.compactMap(\.string) ?? [])
                out.append(
                    (
                        "properties",
                        .array(
                            properties.map { name, value in
                                .object([
                                    ("name", .string(name)), ("required", .bool(required.contains(name))),
                                    ("schema", render(value, depth: depth + 1, trail: trail, budget: &budget)),
                                ])
                            })
                    ))
            }
            if let items = schema["items"] {
                out.append(("items", render(items, depth: depth + 1, trail: trail, budget: &budget)))
            }
            if let additional = schema["additionalProperties"] {
                if case .bool(let allowed) = additional {
                    if !allowed { out.append(("additional_properties", .bool(false))) }
                } else {
                    out.append(
                        ("additional_properties", render(additional, depth: depth + 1, trail: trail, budget: &budget)))
                }
            }
            for (key, name) in [("oneOf", "one_of"), ("anyOf", "any_of")] {
                if let variants = schema[key]?.items, !variants.isEmpty {
                    out.append(
                        (name, .array(variants.map { render($0, depth: depth + 1, trail: trail, budget: &budget) })))
                }
            }
            if let not = schema["not"] {
                out.append(("not", render(not, depth: depth + 1, trail: trail, budget: &budget)))
            }
            if let discriminator = schema["discriminator"]?["propertyName"]?.string {
                out.append(("discriminator", .string(discriminator)))
            }
            return .object(out)
        }

        /// `allOf` folded into one schema: properties in order, `required` united, the first
        /// description and type kept. `from` collects the names of the referenced parts.
        func merge(_ schema: JSONValue, parts: [JSONValue], from: inout [JSONValue], trail: [String]) -> JSONValue {
            var fields = schema.fields.filter { $0.0 != "allOf" }
            var properties = schema["properties"]?.fields ?? []
            var required = schema["required"]?.items ?? []
            var queue = parts
            var seen = 0
            while !queue.isEmpty, seen < 64 {
                var part = queue.removeFirst()
                seen += 1
                if let reference = part["$ref"]?.string {
                    guard !trail.contains(reference), let target = lookup(reference) else { continue }
                    from.append(.string(Self.refName(reference)))
                    part = target
                }
                if let nested = part["allOf"]?.items { queue.insert(contentsOf: nested, at: 0) }
                for (name, value) in part["properties"]?.fields ?? []
                where !properties.contains(where: { $0.0 == name }) {
                    properties.append((name, value))
                }
                required += part["required"]?.items ?? []
                for (key, value) in part.fields where !["properties", "required", "allOf"].contains(key) {
                    if !fields.contains(where: { $0.0 == key }) { fields.append((key, value)) }
                }
            }
            fields.removeAll { $0.0 == "properties" || $0.0 == "required" }
            if !properties.isEmpty {
                fields.append(("properties", .object(properties)))
                if !fields.contains(where: { $0.0 == "type" }) { fields.append(("type", .string("object"))) }
            }
            if !required.isEmpty { fields.append(("required", .array(required))) }
            return .object(fields)
        }

        /// Bounds and patterns in words: `1…100`, `length 3…20`, `pattern ^[a-z]+$`, `unique items`.
        func constraints(_ schema: JSONValue) -> String? {
            var parts: [String] = []
            func range(_ low: String, _ high: String, label: String) {
                let lower = schema[low]?.text
                let upper = schema[high]?.text
                switch (lower, upper) {
                case (let lower?, let upper?): parts.append("\(label)\(lower)…\(upper)")
                case (let lower?, nil): parts.append("\(label)≥ \(lower)")
                case (nil, let upper?): parts.append("\(label)≤ \(upper)")
                default: break
                }
            }
            range("minimum", "maximum", label: "")
            if let value = schema["exclusiveMinimum"]?.text, value != "true", value != "false" {
                parts.append("> \(value)")
            }
            if let value = schema["exclusiveMaximum"]?.text, value != "true", value != "false" {
                parts.append("< \(value)")
            }
            range("minLength", "maxLength", label: "length ")
            range("minItems", "maxItems", label: "items ")
            if let pattern = schema["pattern"]?.string { parts.append("pattern \(pattern)") }
            if let multiple = schema["multipleOf"]?.text { parts.append("multiple of \(multiple)") }
            if schema["uniqueItems"]?.bool == true { parts.append("unique items") }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        }
    }
}
