/// Path templates as OpenAPI writes them: `/users/{id}/orders`, `/files/{name}.{ext}`.
///
/// A `{name}` stands for a non-empty part of one segment: the whole segment, or a part between
/// literal text (`{Sid}.json`, `{owner}-{repo}`). `/**` at the end stands for any rest of the
/// path; it is what an API without routes is given.
package enum PathTemplate {
    /// One segment of a template.
    package enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        /// Literal text and parameters within one segment.
        case pattern(SegmentPattern)
        /// Matches the remaining segments, including none.
        case rest
    }

    /// The segments of a template. Empty segments (from `//` or a trailing `/`) are dropped.
    /// The template is assumed to have passed `problem(in:)`.
    package static func segments(of template: String) -> [Segment] {
        template.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part == "**" { return .rest }
            guard part.contains("{") else { return .literal(String(part)) }
            guard let pattern = SegmentPattern(parsing: part) else { return .literal(String(part)) }
            if pattern.pieces.count == 1, case .parameter(let name) = pattern.pieces[0] { return .parameter(name) }
            return .pattern(pattern)
        }
    }

    /// The names of the template's parameters, in order.
    package static func parameterNames(of template: String) -> [String] {
        segments(of: template).flatMap { segment -> [String] in
            switch segment {
            case .parameter(let name): return [name]
            case .pattern(let pattern): return pattern.parameterNames
            case .literal, .rest: return []
            }
        }
    }

    /// Why a route template is unusable, or nil when it is fine.
    package static func problem(in template: String) -> String? {
        guard template.hasPrefix("/") else { return "it must start with '/'" }
        if template.contains("?") || template.contains("#") { return "it must not hold '?' or '#'" }
        var names: Set<String> = []
        for part in template.split(separator: "/") where part.contains("{") || part.contains("}") {
            switch SegmentPattern.parse(part) {
            case .failure(let problem):
                return "\(problem) in '\(part)'"
            case .success(let pattern):
                for name in pattern.parameterNames {
                    guard names.insert(name).inserted else { return "parameter {\(name)} appears twice" }
                }
            }
        }
        return nil
    }

    /// A base path normalized to `/` or `/a/b` (no trailing slash); nil when it is not a plain path.
    package static func normalizePrefix(_ prefix: String) -> String? {
        guard prefix.hasPrefix("/"), !prefix.contains(where: { "{}?#".contains($0) }) else { return nil }
        var value = prefix
        while value.count > 1 && value.hasSuffix("/") { value.removeLast() }
        return value
    }

    /// `base` followed by `path`, with one slash between them.
    package static func join(_ base: String, _ path: String) -> String {
        let head = base.hasSuffix("/") ? String(base.dropLast()) : base
        if path.isEmpty || path == "/" { return head.isEmpty ? "/" : head }
        return head + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The template with parameter names blanked, so `/a/{id}` and `/a/{key}` compare equal.
    package static func shape(of template: String) -> String {
        "/"
            + segments(of: template).map { segment in
                switch segment {
                case .literal(let text): return text
                case .parameter: return "{}"
                case .pattern(let pattern): return pattern.shape
                case .rest: return "**"
                }
            }.joined(separator: "/")
    }
}

/// Checks for method and header names (RFC 9110 tokens).
package enum HTTPMethodName {
    private static let tokenCharacters = Set(
        "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// True for a non-empty RFC 9110 token.
    package static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { tokenCharacters.contains($0) }
    }

    /// True for an upper-case token, the way methods are written.
    package static func isValid(_ method: String) -> Bool {
        isToken(method) && method == method.uppercased()
    }
}
