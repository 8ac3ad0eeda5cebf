/// Path templates as OpenAPI writes them: `/users/{id}/orders`.
///
/// A `{name}` stands for one whole, non-empty segment. `/**` at the end stands for any rest of the
/// path; it is what an API without routes is given.
public enum PathTemplate {
    /// One segment of a template.
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        /// Matches the remaining segments, including none.
        case rest
    }

    /// The segments of a template. Empty segments (from `//` or a trailing `/`) are dropped.
    public static func segments(of template: String) -> [Segment] {
        template.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part == "**" { return .rest }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }

    /// Why a route template is unusable, or nil when it is fine.
    public static func problem(in template: String) -> String? {
        guard template.hasPrefix("/") else { return "it must start with '/'" }
        if template.contains("?") || template.contains("#") { return "it must not hold '?' or '#'" }
        for part in template.split(separator: "/") {
            let opens = part.filter { $0 == "{" }.count
            let closes = part.filter { $0 == "}" }.count
            if opens == 0 && closes == 0 { continue }
            guard opens == 1, closes == 1, part.hasPrefix("{"), part.hasSuffix("}"), part.count > 2 else {
                return "a parameter must be a whole segment like {id}, found '\(part)'"
            }
        }
        return nil
    }

    /// A base path normalized to `/` or `/a/b` (no trailing slash); nil when it is not a plain path.
    public static func normalizePrefix(_ prefix: String) -> String? {
        guard prefix.hasPrefix("/"), !prefix.contains(where: { "{}?#".contains($0) }) else { return nil }
        var value = prefix
        while value.count > 1 && value.hasSuffix("/") { value.removeLast() }
        return value
    }

    /// `base` followed by `path`, with one slash between them.
    public static func join(_ base: String, _ path: String) -> String {
        let head = base.hasSuffix("/") ? String(base.dropLast()) : base
        if path.isEmpty || path == "/" { return head.isEmpty ? "/" : head }
        return head + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The template with parameter names blanked, so `/a/{id}` and `/a/{key}` compare equal.
    public static func shape(of template: String) -> String {
        "/" + segments(of: template).map { segment in
            switch segment {
            case .literal(let text): return text
            case .parameter: return "{}"
            case .rest: return "**"
            }
        }.joined(separator: "/")
    }
}

/// Checks for method and header names (RFC 9110 tokens).
public enum HTTPMethodName {
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// True for a non-empty RFC 9110 token.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { tokenCharacters.contains($0) }
    }

    /// True for an upper-case token, the way methods are written.
    public static func isValid(_ method: String) -> Bool {
        isToken(method) && method == method.uppercased()
    }
}
