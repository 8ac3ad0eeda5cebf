import PorticoConfig

/// The values of a route template's `{name}` parameters in a request path, percent-decoded.
enum PathParameters {
    /// The value of parameter `name` of `template` in `path` (query ignored); nil when the
    /// template has no such parameter or the path does not fit it.
    static func value(of name: String, template: String, path: String) -> String? {
        values(template: template, path: path)[name]
    }

    /// Every parameter of `template` in `path`, percent-decoded.
    static func values(template: String, path: String) -> [String: String] {
        let pathOnly =
            path.utf8.firstIndex(of: UInt8(ascii: "?")).map { Substring(path.utf8[..<$0]) } ?? Substring(path)
        let pathSegments = pathOnly.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        var values: [String: String] = [:]
        for (index, segment) in PathTemplate.segments(of: template).enumerated() where index < pathSegments.count {
            let raw = Substring(pathSegments[index])
            switch segment {
            case .parameter(let name):
                values[name] = QueryParameter.decoded(raw.utf8) ?? String(raw)
            case .pattern(let pattern):
                for (name, value) in pattern.match(raw) ?? [] {
                    values[name] = QueryParameter.decoded(value.utf8) ?? String(value)
                }
            case .literal, .rest:
                continue
            }
        }
        return values
    }
}
