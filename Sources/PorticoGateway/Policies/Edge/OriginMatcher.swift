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

    /// True when `origin` is allowed; nil when it is not.
    func allows(_ origin: String) -> Bool? {
        if allowsAll { return true }
        // Origins are short; a longer value is not one a browser sends.
        guard origin.utf8.count <= 512 else { return nil }
        let lowered = origin.lowercased()
        if exact.contains(lowered) { return true }
        for (prefix, suffix) in subdomains where lowered.hasPrefix(prefix) && lowered.hasSuffix(suffix) {
            let host = lowered.dropFirst(prefix.count).dropLast(suffix.count)
            // One label or more before the suffix, and nothing that ends the host early.
            if !host.isEmpty, !host.hasSuffix("."), !host.contains(":"), !host.contains("/"), !host.contains("@") { return true }
        }
        for regex in expressions where (try? regex.wholeMatch(in: origin)) != nil { return true }
        return nil
    }
}
