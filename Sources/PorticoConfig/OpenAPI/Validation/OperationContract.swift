/// An operation's contract, compiled from its document: the parameters and body a request must
/// have, and the responses the upstream may give. Built once per config for the routes that
/// validate; checking a request allocates only for what it reads.
package struct OperationContract: Sendable {
    let parameters: [ParameterRule]
    let body: BodyRule?
    /// Responses by status key as written (`200`, `4XX`, `default`).
    let responses: [(key: String, body: BodyRule)]

    /// Where the declared parameters are, so a request's other parts are not parsed for nothing.
    package var reads: Set<String> { Set(parameters.map(\.location.rawValue)) }

    /// At most this many issues are listed for one message.
    package static let maximumIssues = 20

    /// True when the operation declares a request body, which must then be read to be checked.
    package var checksBody: Bool { body.map { !$0.media.isEmpty || $0.required } ?? false }

    /// True when the operation documents its responses.
    package var checksResponses: Bool { !responses.isEmpty }

    /// The request's parameters against their declarations.
    package func validate(_ request: RequestParts) -> [ValidationIssue] {
        var issues = IssueList(limit: Self.maximumIssues)
        for parameter in parameters {
            let pointer = "/\(parameter.location.rawValue)/" + JSONPointer.escape(parameter.name)
            guard let value = parameter.value(in: request) else {
                if parameter.required { issues.add(pointer, "is required") }
                continue
            }
            guard let schema = parameter.schema else { continue }
            var context = SchemaNode.Context(direction: .request, root: pointer)
            schema.validate(value, &context, &issues)
        }
        return issues.issues
    }

    /// True when a body of this type must be read to be checked: the operation takes it, as JSON,
    /// a form or multipart, with a schema. Other bodies (an upload of `application/octet-stream`)
    /// stream through unread, checked by `validate(bodyHead:hasBody:)` alone.
    package func readsBody(contentType: String?) -> Bool {
        guard let body, let contentType, let media = body.media(for: contentType) else { return false }
        return media.schema != nil && media.kind != .opaque
    }

    /// What can be said of the body from the head alone: a required body missing, a body without
    /// a `Content-Type`, or a media type the operation does not take.
    package func validate(bodyHead contentType: String?, hasBody: Bool) -> (BodyVerdict, [ValidationIssue]) {
        guard let body else { return (.checked, []) }
        guard hasBody else {
            return (.checked, body.required ? [ValidationIssue(pointer: "/body", message: "is required")] : [])
        }
        guard let contentType else {
            return (
                .checked,
                [
                    ValidationIssue(
                        pointer: "/body",
                        message: "has no Content-Type; expected \(body.media.map(\.type).joined(separator: ", "))")
                ]
            )
        }
        guard body.media(for: contentType) != nil else {
            return (.unsupported(BodyRule.mediaType(contentType), accepted: body.media.map(\.type)), [])
        }
        return (.checked, [])
    }

    /// The request body against `requestBody`. `bytes` is the whole body (empty when none).
    package func validate(body bytes: [UInt8], contentType: String?) -> (BodyVerdict, [ValidationIssue]) {
        guard let body else { return (.checked, []) }
        var issues = IssueList(limit: Self.maximumIssues)
        let verdict = body.validate(bytes, contentType: contentType, direction: .request, root: "/body", into: &issues)
        return (verdict, issues.issues)
    }

    /// A response against the documented one for its status (exact, `4XX`, then `default`);
    /// an undocumented status is an issue itself.
    package func validate(response status: Int, contentType: String?, body bytes: [UInt8]) -> [ValidationIssue] {
        let key = String(status)
        let range = "\(status / 100)XX"
        guard
            let rule = responses.first(where: { $0.key == key })?.body
                ?? responses.first(where: { $0.key.uppercased() == range })?.body
                ?? responses.first(where: { $0.key == "default" })?.body
        else {
            return responses.isEmpty
                ? [] : [ValidationIssue(pointer: "/status", message: "\(status) is not a documented response")]
        }
        guard !rule.media.isEmpty else { return [] }
        var issues = IssueList(limit: Self.maximumIssues)
        let verdict = rule.validate(
            bytes, contentType: contentType, direction: .response, root: "/response/body", into: &issues)
        if case .unsupported(let type, let accepted) = verdict {
            issues.add(
                "/response/header/content-type",
                "\(type) is not documented for \(status) (\(accepted.joined(separator: ", ")))")
        }
        return issues.issues
    }
}

extension OperationContract {
    /// Compiles the contract of `method` at `path` in `document`. Problems that leave a part
    /// unchecked (a bad pattern, a dangling `$ref`) are returned to be reported as warnings.
    static func compile(
        path: String, method: String, document: OpenAPIDocument, compiler: SchemaCompiler
    ) -> OperationContract? {
        guard let (operation, item) = document.operation(path: path, method: method) else { return nil }
        // Path-level parameters apply unless the operation redefines one (same name and place).
        let own = (operation["parameters"]?.items ?? []).map(document.resolve)
        let inherited = (item["parameters"]?.items ?? []).map(document.resolve).filter { shared in
            !own.contains { $0["name"]?.string == shared["name"]?.string && $0["in"]?.string == shared["in"]?.string }
        }
        var parameters: [ParameterRule] = []
        for declaration in inherited + own {
            guard let name = declaration["name"]?.string,
                let location = declaration["in"]?.string.flatMap(ParameterRule.Location.init)
            else { continue }
            let defaultStyle: ParameterRule.Style = location == .query || location == .cookie ? .form : .simple
            let style = declaration["style"]?.string.flatMap(ParameterRule.Style.init) ?? defaultStyle
            let explode = declaration["explode"]?.bool ?? (style == .form)
            var shape = ParameterRule.Shape.text
            var schemaValue = declaration["schema"]
            if let (mediaType, media) = declaration["content"]?.fields.first {
                schemaValue = media["schema"]
                shape = BodyRule.kind(of: BodyRule.mediaType(mediaType)) == .json ? .json : .text
            } else if let schema = schemaValue.map(document.resolve) {
                shape = Self.shape(of: schema, document: document)
            }
            parameters.append(
                ParameterRule(
                    name: name, location: location, style: style, explode: explode,
                    required: location == .path || declaration["required"]?.bool == true, shape: shape,
                    schema: schemaValue.map(compiler.compile)))
        }
        let body = operation["requestBody"].map(document.resolve).map {
            Self.bodyRule($0, document: document, compiler: compiler)
        }
        var responses: [(key: String, body: BodyRule)] = []
        for (key, raw) in operation["responses"]?.fields ?? [] {
            responses.append((key, Self.bodyRule(document.resolve(raw), document: document, compiler: compiler)))
        }
        return OperationContract(parameters: parameters, body: body, responses: responses)
    }

    private static func bodyRule(_ body: JSONValue, document: OpenAPIDocument, compiler: SchemaCompiler) -> BodyRule {
        var media: [BodyRule.Media] = []
        for (type, raw) in body["content"]?.fields ?? [] {
            let entry = document.resolve(raw)
            let lowered = BodyRule.mediaType(type)
            let kind = BodyRule.kind(of: lowered)
            var fields: [String: ParameterRule.Shape] = [:]
            if kind == .form || kind == .multipart, let schema = entry["schema"].map(document.resolve) {
                for (name, property) in Self.properties(of: schema, document: document) {
                    fields[name] = shape(of: document.resolve(property), document: document)
                }
            }
            media.append(
                BodyRule.Media(type: lowered, kind: kind, schema: entry["schema"].map(compiler.compile), fields: fields)
            )
        }
        return BodyRule(required: body["required"]?.bool == true, media: media)
    }

    /// An object schema's properties, through `allOf`.
    private static func properties(
        of schema: JSONValue, document: OpenAPIDocument, depth: Int = 0
    ) -> [(String, JSONValue)] {
        guard depth < 8 else { return [] }
        var found = schema["properties"]?.fields ?? []
        for part in schema["allOf"]?.items ?? [] {
            found += properties(of: document.resolve(part), document: document, depth: depth + 1)
        }
        return found
    }

    static func shape(of schema: JSONValue, document: OpenAPIDocument) -> ParameterRule.Shape {
        switch SchemaSampler.type(of: schema) {
        case "array":
            return .array(ParameterRule.ScalarKind(schema["items"].map(document.resolve) ?? .null))
        case "object":
            var kinds: [String: ParameterRule.ScalarKind] = [:]
            for (name, property) in properties(of: schema, document: document) {
                kinds[name] = ParameterRule.ScalarKind(document.resolve(property))
            }
            return .object(kinds)
        default:
            return .primitive(ParameterRule.ScalarKind(schema))
        }
    }
}
