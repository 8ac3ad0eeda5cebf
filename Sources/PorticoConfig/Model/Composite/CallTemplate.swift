/// A backend call's path or header value with placeholders in braces, as composite endpoints
/// write them: `/users/{path.user}`, `/teams/{calls.user.body.team_id}`, `/products/{item}`,
/// `/feed?user={path.user}&page={query.page}`.
///
/// A placeholder names the client's request (the same sources as a transform's `${…}`), an
/// earlier call's answer (`calls.NAME.body.SELECTOR`, `calls.NAME.status`,
/// `calls.NAME.header.NAME`), or the element of a `for-each` (its `as` name, alone or followed by
/// a selector).
package struct CallTemplate: Sendable, Hashable, CustomStringConvertible {
    package enum Part: Sendable, Hashable {
        case text(String)
        /// A value of the client's request or identity.
        case request(ValueTemplate.Part)
        /// A value of an earlier call's answer.
        case call(String, CallValue)
        /// The `for-each` element, or a value inside it.
        case item(JSONSelector?)
    }

    /// What a placeholder reads of a call's answer.
    package enum CallValue: Sendable, Hashable {
        case body(JSONSelector)
        case status
        case header(String)
    }

    package let parts: [Part]
    package let description: String

    package init(parts: [Part], description: String) {
        self.parts = parts
        self.description = description
    }

    /// The calls whose answers the template reads.
    package var calls: Set<String> {
        Set(parts.compactMap { if case .call(let name, _) = $0 { name } else { nil } })
    }

    /// True when the template reads the `for-each` element.
    package var readsItem: Bool { parts.contains { if case .item = $0 { true } else { false } } }

    /// Reads `text`; `item` is the `for-each` element's name, if the call has one.
    package static func parse(_ text: String, item: String?) -> Result<CallTemplate, TemplateProblem> {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{" else { return .failure(.init("a '}' without its '{' in '\(text)'")) }
            literal += rest[..<open]
            guard let close = rest[rest.index(after: open)...].firstIndex(where: { $0 == "}" || $0 == "{" }),
                rest[close] == "}"
            else {
                return .failure(.init("unterminated { in '\(text)'"))
            }
            let name = String(rest[rest.index(after: open)..<close])
            switch part(named: name, item: item) {
            case .success(let part):
                if !literal.isEmpty { parts.append(.text(literal)) }
                literal = ""
                parts.append(part)
            case .failure(let problem):
                return .failure(.init("\(problem.description) in '\(text)'"))
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        return .success(CallTemplate(parts: parts, description: text))
    }

    static let sources =
        "path.NAME, query.NAME, header.NAME, consumer.name, consumer.groups, consumer.plan, claims.NAME, request.id, client.ip, calls.CALL.body.FIELD, calls.CALL.status, calls.CALL.header.NAME"

    private static func part(named name: String, item: String?) -> Result<Part, TemplateProblem> {
        if let item, name == item || name.hasPrefix(item + ".") || name.hasPrefix(item + "[") {
            var rest = name.dropFirst(item.count)
            if rest.isEmpty { return .success(.item(nil)) }
            if rest.first == "." { rest = rest.dropFirst() }
            guard let selector = JSONSelector(String(rest)), !selector.isMultiple else {
                return .failure(.init("'{\(name)}' is not a single field of the for-each element"))
            }
            return .success(.item(selector))
        }
        if name.hasPrefix("calls.") {
            let rest = name.dropFirst("calls.".count)
            guard let dot = rest.firstIndex(of: "."), !rest[..<dot].isEmpty else {
                return .failure(
                    .init("'{\(name)}' must name a call and a value (calls.CALL.body.FIELD, calls.CALL.status)"))
            }
            let call = String(rest[..<dot])
            let value = rest[rest.index(after: dot)...]
            if value == "status" { return .success(.call(call, .status)) }
            if value == "body" { return .success(.call(call, .body(JSONSelector(steps: [], description: "")))) }
            if value.hasPrefix("body.") || value.hasPrefix("body/") {
                let text = value.hasPrefix("body/") ? String(value.dropFirst(4)) : String(value.dropFirst(5))
                guard let selector = JSONSelector(text), !selector.isMultiple else {
                    return .failure(
                        .init("'{\(name)}' is not a single field (use for-each for every element of an array)"))
                }
                return .success(.call(call, .body(selector)))
            }
            if value.hasPrefix("header."), HTTPMethodName.isToken(String(value.dropFirst(7))) {
                return .success(.call(call, .header(String(value.dropFirst(7)))))
            }
            return .failure(.init("'{\(name)}' must read body.FIELD, status or header.NAME of call '\(call)'"))
        }
        guard case .success(let template) = ValueTemplate.parse("${\(name)}"), template.parts.count == 1,
            case let part = template.parts[0], part != .routeName, part != .apiName
        else {
            return .failure(.init("unknown placeholder {\(name)} (known: \(sources)\(item.map { ", \($0)" } ?? ""))"))
        }
        return .success(.request(part))
    }
}
