/// One entry of a CORS origin list.
package enum OriginPattern: Sendable, Hashable {
    /// `*`: every origin.
    case any
    /// `https://shop.example.com`: this origin only (compared in lower case).
    case exact(String)
    /// `https://*.example.com`: any origin of this scheme and port on a subdomain of the host
    /// (not the host itself). `prefix` is `https://`, `suffix` is `.example.com` with the port if any.
    case subdomains(prefix: String, suffix: String)
    /// `~^https://[a-z]+\.example\.com$`: the regular expression must match the whole origin.
    case regex(String)

    /// Reads a pattern, or says what is wrong with it.
    package static func parse(_ text: String) -> Result<OriginPattern, OriginProblem> {
        if text == "*" { return .success(.any) }
        if text.hasPrefix("~") {
            let expression = String(text.dropFirst())
            guard (try? Regex(expression)) != nil else {
                return .failure(.init("'\(expression)' is not a valid regular expression"))
            }
            return .success(.regex(expression))
        }
        let lowered = text.lowercased()
        guard let schemeEnd = lowered.range(of: "://") else {
            return .failure(
                .init("'\(text)' is not an origin: write it as scheme://host[:port], like https://shop.example.com"))
        }
        let scheme = lowered[..<schemeEnd.lowerBound]
        let authority = lowered[schemeEnd.upperBound...]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
            !authority.isEmpty,
            !authority.contains("/"), !authority.contains("?"), !authority.contains("#"), !authority.contains("@")
        else {
            return .failure(
                .init("'\(text)' is not an origin: an origin has no path, query or user, like https://shop.example.com")
            )
        }
        if authority.hasPrefix("*.") {
            let rest = authority.dropFirst(1)
            guard !rest.contains("*"), rest.count > 1 else {
                return .failure(.init("'\(text)': a wildcard must be the first label only"))
            }
            return .success(.subdomains(prefix: String(scheme) + "://", suffix: String(rest)))
        }
        guard !authority.contains("*") else {
            return .failure(.init("'\(text)': a wildcard must be the first label only, as in https://*.example.com"))
        }
        return .success(.exact(lowered))
    }
}

/// Why an origin pattern could not be read.
package struct OriginProblem: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
