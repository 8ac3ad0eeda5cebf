/// A branch's `when:` condition: comparisons of the request's values with literals, joined by
/// `&&` and `||` (`&&` binds tighter).
///
/// `header.X-Region == 'eu'`, `query.beta`, `body./country == 'DE'`,
/// `body.order.total != '0' && consumer.groups == 'partners'`, `claims.tier in ['gold', 'silver']`.
/// A value read from the request may have several values (repeated headers, a consumer's
/// groups): `==` and `in` hold when one of them matches, `!=` when none does, and a bare operand
/// when there is a non-empty one.
package indirect enum BranchCondition: Sendable, Hashable {
    case any([BranchCondition])
    case all([BranchCondition])
    case present(Operand)
    case equals(Operand, String)
    case differs(Operand, String)
    case oneOf(Operand, [String])

    package enum Operand: Sendable, Hashable {
        case header(String)
        case query(String)
        case path(String)
        case body(JSONSelector)
        case consumerName
        case consumerGroups
        case consumerPlan
        case claim(String)
        case method
    }

    /// Whether the condition holds, with `values` giving each operand's values in the request.
    package func holds(_ values: (Operand) -> [String]) -> Bool {
        switch self {
        case .any(let conditions): return conditions.contains { $0.holds(values) }
        case .all(let conditions): return conditions.allSatisfy { $0.holds(values) }
        case .present(let operand): return values(operand).contains { !$0.isEmpty }
        case .equals(let operand, let literal): return values(operand).contains(literal)
        case .differs(let operand, let literal): return !values(operand).contains(literal)
        case .oneOf(let operand, let literals): return values(operand).contains { literals.contains($0) }
        }
    }

    /// True when the condition reads the request body.
    package var readsBody: Bool {
        switch self {
        case .any(let conditions), .all(let conditions): return conditions.contains(where: \.readsBody)
        case .present(let operand), .equals(let operand, _), .differs(let operand, _), .oneOf(let operand, _):
            if case .body = operand { return true }
            return false
        }
    }

    /// Reads a condition, or says what is wrong with it.
    package static func parse(_ text: String) -> Result<BranchCondition, TemplateProblem> {
        var tokens: [Token] = []
        switch tokenize(text) {
        case .success(let found): tokens = found
        case .failure(let problem): return .failure(problem)
        }
        var parser = Parser(tokens: tokens)
        do {
            let condition = try parser.disjunction()
            guard parser.position == tokens.count else {
                throw TemplateProblem("unexpected \(tokens[parser.position]) in '\(text)'")
            }
            return .success(condition)
        } catch let problem as TemplateProblem {
            return .failure(
                TemplateProblem(
                    "\(problem.description)\(problem.description.contains("'\(text)'") ? "" : " in '\(text)'")"))
        } catch {
            return .failure(TemplateProblem("bad condition '\(text)'"))
        }
    }

    enum Token: Hashable, CustomStringConvertible {
        case word(String)
        case literal(String)
        case symbol(String)

        var description: String {
            switch self {
            case .word(let text), .symbol(let text): return "'\(text)'"
            case .literal(let text): return "'\(text)'"
            }
        }
    }

    static func tokenize(_ text: String) -> Result<[Token], TemplateProblem> {
        var tokens: [Token] = []
        let characters = Array(text)
        var position = 0
        while position < characters.count {
            let character = characters[position]
            if character == " " || character == "\t" {
                position += 1
            } else if character == "'" || character == "\"" {
                guard let close = characters[(position + 1)...].firstIndex(of: character) else {
                    return .failure(TemplateProblem("unterminated string in '\(text)'"))
                }
                tokens.append(.literal(String(characters[(position + 1)..<close])))
                position = close + 1
            } else if let symbol = ["==", "!=", "&&", "||"].first(where: {
                characters[position...].starts(with: Array($0))
            }) {
                tokens.append(.symbol(symbol))
                position += 2
            } else if "[],()".contains(character) {
                tokens.append(.symbol(String(character)))
                position += 1
            } else {
                var word = ""
                while position < characters.count, !" \t'\"=!&|,()".contains(characters[position]),
                    !(characters[position] == "]" && !word.contains("["))
                {
                    word.append(characters[position])
                    position += 1
                }
                guard !word.isEmpty else { return .failure(TemplateProblem("unexpected '\(character)' in '\(text)'")) }
                tokens.append(.word(word))
            }
        }
        return .success(tokens)
    }

    struct Parser {
        let tokens: [Token]
        var position = 0

        mutating func disjunction() throws -> BranchCondition {
            var parts = [try conjunction()]
            while position < tokens.count, tokens[position] == .symbol("||") {
                position += 1
                parts.append(try conjunction())
            }
            return parts.count == 1 ? parts[0] : .any(parts)
        }

        mutating func conjunction() throws -> BranchCondition {
            var parts = [try comparison()]
            while position < tokens.count, tokens[position] == .symbol("&&") {
                position += 1
                parts.append(try comparison())
            }
            return parts.count == 1 ? parts[0] : .all(parts)
        }

        mutating func comparison() throws -> BranchCondition {
            guard position < tokens.count else { throw TemplateProblem("the condition ends too soon") }
            if tokens[position] == .symbol("(") {
                position += 1
                let inner = try disjunction()
                guard position < tokens.count, tokens[position] == .symbol(")") else {
                    throw TemplateProblem("a '(' without its ')'")
                }
                position += 1
                return inner
            }
            guard case .word(let name) = tokens[position] else {
                throw TemplateProblem("expected a value such as header.NAME, found \(tokens[position])")
            }
            let operand = try Self.operand(name)
            position += 1
            guard position < tokens.count else { return .present(operand) }
            switch tokens[position] {
            case .symbol("=="), .symbol("!="):
                let equal = tokens[position] == .symbol("==")
                position += 1
                let value = try literal()
                return equal ? .equals(operand, value) : .differs(operand, value)
            case .word("in"):
                position += 1
                guard position < tokens.count, tokens[position] == .symbol("[") else {
                    throw TemplateProblem("'in' needs a list like ['a', 'b']")
                }
                position += 1
                var values: [String] = []
                while position < tokens.count, tokens[position] != .symbol("]") {
                    values.append(try literal())
                    if position < tokens.count, tokens[position] == .symbol(",") { position += 1 }
                }
                guard position < tokens.count else { throw TemplateProblem("a '[' without its ']'") }
                position += 1
                return .oneOf(operand, values)
            default:
                return .present(operand)
            }
        }

        mutating func literal() throws -> String {
            guard position < tokens.count else { throw TemplateProblem("a comparison needs a value") }
            defer { position += 1 }
            switch tokens[position] {
            case .literal(let text): return text
            // Numbers and booleans may be written bare; they compare as the text of the value.
            case .word(let text)
            where text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) || text == "true" || text == "false":
                return text
            default: throw TemplateProblem("expected a quoted value, found \(tokens[position])")
            }
        }

        static func operand(_ name: String) throws -> Operand {
            switch name {
            case "consumer.name": return .consumerName
            case "consumer.groups", "consumer.group": return .consumerGroups
            case "consumer.plan": return .consumerPlan
            case "method": return .method
            default: break
            }
            guard let dot = name.firstIndex(of: "."), name.index(after: dot) < name.endIndex else {
                throw TemplateProblem(
                    "unknown value '\(name)' (known: header.NAME, query.NAME, path.NAME, body.FIELD, consumer.name, consumer.groups, consumer.plan, claims.NAME, method)"
                )
            }
            let key = String(name[name.index(after: dot)...])
            switch name[..<dot] {
            case "header" where HTTPMethodName.isToken(key): return .header(key)
            case "query": return .query(key)
            case "path": return .path(key)
            case "claims": return .claim(key)
            case "body":
                guard let selector = JSONSelector(key) else {
                    throw TemplateProblem("'\(key)' is not a field of the body (like /country or order.total)")
                }
                return .body(selector)
            default:
                throw TemplateProblem(
                    "unknown value '\(name)' (known: header.NAME, query.NAME, path.NAME, body.FIELD, consumer.name, consumer.groups, consumer.plan, claims.NAME, method)"
                )
            }
        }
    }
}
