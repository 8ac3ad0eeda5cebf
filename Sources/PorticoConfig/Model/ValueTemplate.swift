/// A value with placeholders read from the request, as transforms and redirects write them:
/// `"${consumer.name}"`, `"/items/${path.id}"`, `"tenant-${claims.tenant}"`.
///
/// Placeholders name a dotted source, which is how they differ from the config's `${VARIABLE}`
/// environment references (those are replaced when the file is read).
package struct ValueTemplate: Sendable, Hashable, CustomStringConvertible {
    package enum Part: Sendable, Hashable {
        case text(String)
        case consumerName
        /// The consumer's groups, joined with commas.
        case consumerGroups
        case consumerPlan
        /// A string, number or boolean claim of the caller's token.
        case claim(String)
        /// A parameter of the route's path template, percent-decoded.
        case path(String)
        /// A query parameter, percent-decoded.
        case query(String)
        /// A request header.
        case header(String)
        case requestID
        case routeName
        case apiName
        /// The client's address, as the trusted-proxy settings resolve it.
        case clientIP
    }

    package let parts: [Part]
    /// The text as written.
    package let description: String

    /// True when the value has no placeholder.
    package var isConstant: Bool { parts.allSatisfy { if case .text = $0 { true } else { false } } }

    /// The names a placeholder may use, for messages.
    package static let sources =
        "consumer.name, consumer.groups, consumer.plan, claims.NAME, path.NAME, query.NAME, header.NAME, request.id, route.name, api.name, client.ip"

    /// Reads `text`, or says which placeholder is wrong.
    package static func parse(_ text: String) -> Result<ValueTemplate, TemplateProblem> {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            literal += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                return .failure(.init("unterminated ${ in '\(text)'"))
            }
            let name = String(rest[start.upperBound..<end])
            guard let part = Self.part(named: name) else {
                return .failure(.init("unknown placeholder ${\(name)} in '\(text)' (known: \(sources))"))
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(part)
            rest = rest[rest.index(after: end)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        return .success(ValueTemplate(parts: parts, description: text))
    }

    private static func part(named name: String) -> Part? {
        switch name {
        case "consumer.name": return .consumerName
        case "consumer.groups": return .consumerGroups
        case "consumer.plan": return .consumerPlan
        case "request.id": return .requestID
        case "route.name": return .routeName
        case "api.name": return .apiName
        case "client.ip": return .clientIP
        default: break
        }
        guard let dot = name.firstIndex(of: "."), name.index(after: dot) < name.endIndex else { return nil }
        let source = name[..<dot]
        let key = String(name[name.index(after: dot)...])
        switch source {
        case "claims": return .claim(key)
        case "path": return key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } ? .path(key) : nil
        case "query": return .query(key)
        case "header": return HTTPMethodName.isToken(key) ? .header(key) : nil
        default: return nil
        }
    }

    package init(parts: [Part], description: String) {
        self.parts = parts
        self.description = description
    }

    /// A value without placeholders.
    package init(constant text: String) {
        self.init(parts: text.isEmpty ? [] : [.text(text)], description: text)
    }
}

/// Why a template could not be read.
package struct TemplateProblem: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
