/// A JSON pointer (RFC 6901): `/meta/consumer`, `/items/0`, `""` for the whole document.
package struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
    package let tokens: [String]
    package let description: String

    /// Reads a pointer, or nil when it does not start with `/` or has a bad `~` escape.
    package init?(_ text: String) {
        guard text.isEmpty || text.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in text.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            var token = ""
            var escaped = false
            for character in raw {
                if escaped {
                    switch character {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                    escaped = false
                } else if character == "~" {
                    escaped = true
                } else {
                    token.append(character)
                }
            }
            if escaped { return nil }
            tokens.append(token)
        }
        self.tokens = tokens
        self.description = text
    }

    /// A reference token escaped for a pointer: `a/b~c` → `a~1b~0c`.
    package static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "~") }) else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// The value at this pointer, if there is one.
    package func value(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let fields):
                guard let found = fields.last(where: { $0.0 == token }) else { return nil }
                current = found.1
            case .array(let items):
                guard let index = Self.index(token), index < items.count else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Removes the value at this pointer; returns it, or nil when there was none.
    @discardableResult
    package func remove(from document: inout JSONValue) -> JSONValue? {
        guard !tokens.isEmpty else { return nil }
        return Self.remove(tokens[...], from: &document)
    }

    /// Sets the value at this pointer, creating missing parent objects. Returns false when a
    /// parent is not a container, or an array index is out of range (`-` appends).
    @discardableResult
    package func set(_ value: JSONValue, in document: inout JSONValue) -> Bool {
        guard !tokens.isEmpty else {
            document = value
            return true
        }
        return Self.set(value, tokens[...], in: &document)
    }

    private static func remove(_ tokens: ArraySlice<String>, from node: inout JSONValue) -> JSONValue? {
        let token = tokens.first!
        let rest = tokens.dropFirst()
        switch node {
        case .object(var fields):
            guard let position = fields.lastIndex(where: { $0.0 == token }) else { return nil }
            let removed: JSONValue?
            if rest.isEmpty {
                removed = fields.remove(at: position).1
                fields.removeAll { $0.0 == token }
            } else {
                removed = remove(rest, from: &fields[position].1)
            }
            node = .object(fields)
            return removed
        case .array(var items):
            guard let index = index(token), index < items.count else { return nil }
            let removed = rest.isEmpty ? items.remove(at: index) : remove(rest, from: &items[index])
            node = .array(items)
            return removed
        default:
            return nil
        }
    }

    private static func set(_ value: JSONValue, _ tokens: ArraySlice<String>, in node: inout JSONValue) -> Bool {
        let token = tokens.first!
        let rest = tokens.dropFirst()
        switch node {
        case .object(var fields):
            if let position = fields.lastIndex(where: { $0.0 == token }) {
                if rest.isEmpty {
                    fields[position].1 = value
                } else if !set(value, rest, in: &fields[position].1) {
                    return false
                }
            } else {
                var child = JSONValue.object([])
                if rest.isEmpty {
                    child = value
                } else if !set(value, rest, in: &child) {
                    return false
                }
                fields.append((token, child))
            }
            node = .object(fields)
            return true
        case .array(var items):
            if token == "-", rest.isEmpty {
                items.append(value)
            } else {
                guard let index = index(token), index < items.count else { return false }
                if rest.isEmpty {
                    items[index] = value
                } else if !set(value, rest, in: &items[index]) {
                    return false
                }
            }
            node = .array(items)
            return true
        default:
            return false
        }
    }

    /// An array index as RFC 6901 writes it: digits, no leading zero.
    private static func index(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            token == "0" || !token.hasPrefix("0"), token.utf8.count <= 9
        else { return nil }
        return Int(token)
    }
}
