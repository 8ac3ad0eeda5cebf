import PorticoConfig

/// Decides whether an `Origin` is in a CORS origin list, without allocating for exact origins.
struct OriginMatcher: Sendable {
    let exact: Set<String>
    let subdomains: [(prefix: String, suffix: String)]
    nonisolated(unsafe) let expressions: [Regex<AnyRegexOutput>]
    /// The list holds `*`.
    let allowsAll: Bool

    init(_ patterns: [OriginPattern]) {
        var exact: Set<String> = []
        var subdomains: [(String, String)] = []
        var expressions: [Regex<AnyRegexOutput>] = []
        var all = false
        for pattern in patterns {
            switch pattern {
            case .any: all = true
            case .exact(let origin): exact.insert(origin)
            case .subdomains(let prefix, let suffix): subdomains.append((prefix, suffix))
            case .regex(let expression): if let regex = try? Regex(expression) { expressions.append(regex) }
            }
        }
        self.exact = exact
        self.subdomains = subdomains
        self.expressions = expressions
        self.allowsAll = all
    }

    /// True when `origin` is allowed; nil when it is not. Compared as bytes: browsers send
    /// origins in lower case, so the common case allocates nothing.
    func allows(_ origin: String, exactChecked: Bool = false) -> Bool? {
        if allowsAll { return true }
        // Origins are short, and one value: a longer or listed value is not one a browser sends.
        guard origin.utf8.count <= 512, !origin.utf8.contains(UInt8(ascii: ",")) else { return nil }
        let lowered =
            origin.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
            ? origin.lowercased() : origin
        if !(exactChecked && lowered == origin), exact.contains(lowered) { return true }
        let bytes = lowered.utf8
        for (prefix, suffix) in subdomains where bytes.count > prefix.utf8.count + suffix.utf8.count {
            guard lowered.hasPrefix(prefix), lowered.hasSuffix(suffix) else { continue }
            // One label or more before the suffix, and nothing that ends the host early.
            let host = bytes.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
            if host.last != UInt8(ascii: "."),
                !host.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "@") })
            {
                return true
            }
        }
        for regex in expressions where (try? regex.wholeMatch(in: origin)) != nil { return true }
        return nil
    }
}
