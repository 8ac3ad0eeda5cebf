/// The bodies an operation accepts (its `requestBody`) or a response carries: a schema per media
/// type, matched as OpenAPI says (exact type first, then `type/*`, then `*/*`).
struct BodyRule: Sendable {
    enum Kind: Sendable {
        case json
        case form
        case multipart
        /// Any other media type: declared, but its bytes are not checked.
        case opaque
    }

    struct Media: Sendable {
        /// Lower case, without parameters: `application/json`, `image/*`.
        let type: String
        let kind: Kind
        let schema: SchemaNode?
        /// For form and multipart bodies: how each field's text becomes JSON.
        let fields: [String: ParameterRule.Shape]
    }

    let required: Bool
    let media: [Media]

    /// The media type a `Content-Type` header names, lower case without parameters.
    static func mediaType(_ contentType: String) -> String {
        // The common case, `application/json` as is, costs one scan.
        if !contentType.utf8.contains(where: {
            $0 == UInt8(ascii: ";") || $0 == 0x20 || $0 == 0x09 || ($0 >= 0x41 && $0 <= 0x5A)
        }) {
            return contentType
        }
        return (contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? "").trimmingWhitespace()
            .lowercased()
    }

    static func kind(of type: String) -> Kind {
        if type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) { return .json }
        if type == "application/x-www-form-urlencoded" { return .form }
        if type == "multipart/form-data" { return .multipart }
        return .opaque
    }

    func media(for contentType: String) -> Media? {
        let type = Self.mediaType(contentType)
        if let exact = media.first(where: { $0.type == type }) { return exact }
        let family = type.split(separator: "/").first.map { $0 + "/*" } ?? ""
        if let ranged = media.first(where: { $0.type == family }) { return ranged }
        return media.first { $0.type == "*/*" }
    }

    /// Checks a body; `root` is the pointer the issues start with (`/body`).
    func validate(
        _ bytes: [UInt8], contentType: String?, direction: ValidationDirection, root: String,
        into issues: inout IssueList
    ) -> BodyVerdict {
        guard !bytes.isEmpty || contentType != nil else {
            if required { issues.add(root, "is required") }
            return .checked
        }
        guard let contentType else {
            issues.add(root, "has no Content-Type; expected \(media.map(\.type).joined(separator: ", "))")
            return .checked
        }
        guard let media = media(for: contentType) else {
            return .unsupported(Self.mediaType(contentType), accepted: self.media.map(\.type))
        }
        guard let schema = media.schema else { return .checked }
        let value: JSONValue
        switch media.kind {
        case .opaque:
            return .checked
        case .json:
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                issues.add(root, "is not valid JSON: \(error)")
                return .checked
            }
        case .form:
            value = .object(
                FormBody.pairs(bytes).map { name, text in (name, FormBody.value(text, shape: media.fields[name])) })
            return check(
                FormBody.grouped(value, shapes: media.fields), schema, direction: direction, root: root, &issues)
        case .multipart:
            guard let boundary = MultipartBody.boundary(contentType) else {
                issues.add(root, "is multipart/form-data without a boundary parameter")
                return .checked
            }
            switch MultipartBody.parts(bytes, boundary: boundary) {
            case .failure(let problem):
                issues.add(root, "is not valid multipart/form-data: \(problem)")
                return .checked
            case .success(let parts):
                let fields: [(String, JSONValue)] = parts.map { part in
                    if part.filename != nil { return (part.name, .string("")) }
                    if let type = part.contentType, Self.kind(of: Self.mediaType(type)) == .json,
                        let parsed = try? JSONParser.parse(part.body)
                    {
                        return (part.name, parsed)
                    }
                    return (
                        part.name,
                        FormBody.value(String(decoding: part.body, as: UTF8.self), shape: media.fields[part.name])
                    )
                }
                value = FormBody.grouped(.object(fields), shapes: media.fields)
            }
        }
        return check(value, schema, direction: direction, root: root, &issues)
    }

    private func check(
        _ value: JSONValue, _ schema: SchemaNode, direction: ValidationDirection, root: String,
        _ issues: inout IssueList
    ) -> BodyVerdict {
        var context = SchemaNode.Context(direction: direction, root: root)
        schema.validate(value, &context, &issues)
        return .checked
    }
}

/// What checking a body came to.
package enum BodyVerdict: Sendable, Equatable {
    /// Checked; the issues (if any) are in the list.
    case checked
    /// The media type is not one the operation accepts (415).
    case unsupported(String, accepted: [String])
}
