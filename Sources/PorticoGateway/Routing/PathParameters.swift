/// The values of a route template's `{name}` parameters in a request path, percent-decoded.
enum PathParameters {
    /// The value of parameter `name` of `template` in `path` (query ignored); nil when the
    /// template has no such parameter or the path does not fit it.
    static func value(of name: String, template: String, path: String) -> String? {
        let templateSegments = template.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        let pathOnly = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { Substring(path.utf8[..<$0]) } ?? Substring(path)
        let pathSegments = pathOnly.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        let wanted = Array(("{" + name + "}").utf8)
        for (index, segment) in templateSegments.enumerated() where segment.elementsEqual(wanted) {
            guard index < pathSegments.count else { return nil }
            let raw = Substring(pathSegments[index]).utf8
            return QueryParameter.decoded(raw) ?? String(Substring(raw))
        }
        return nil
    }
}
