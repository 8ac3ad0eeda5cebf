/// A way into a JSON answer, as composite endpoints write it: `team_id`, `items[*].product_id`,
/// `items[0].id`, or a JSON pointer (`/items/0/id`). `[*]` (or a `*` pointer token) takes every
/// element of an array, so a selector can name many values.
package struct JSONSelector: Sendable, Hashable, CustomStringConvertible {
    package enum Step: Sendable, Hashable {
        /// An object member, or an array element when the name is an index.
        case member(String)
        /// Every element of an array (every member of an object).
        case each
    }

    package let steps: [Step]
    package let description: String

    /// True when the selector can name more than one value.
    package var isMultiple: Bool { steps.contains(.each) }

    package init(steps: [Step], description: String) {
        self.steps = steps
        self.description = description
    }

    /// Reads a dotted selector or a JSON pointer; nil when it is malformed. The empty text is
    /// the whole value.
    package init?(_ text: String) {
        if text.isEmpty || text.hasPrefix("/") {
            guard let pointer = JSONPointer(text) else { return nil }
            self.init(steps: pointer.tokens.map { $0 == "*" ? .each : .member($0) }, description: text)
            return
        }
        var steps: [Step] = []
        let characters = Array(text)
        var position = 0
        // `a.b[2][*].c`: a name runs to `.` or `[`; brackets hold an index or `*`; a dot is
        // followed by a name.
        var needName = false
        while position < characters.count {
            switch characters[position] {
            case "[":
                guard !needName, let close = characters[position...].firstIndex(of: "]") else { return nil }
                let inside = String(characters[(position + 1)..<close])
                if inside == "*" {
                    steps.append(.each)
                } else if !inside.isEmpty, inside.utf8.count <= 9, inside.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                {
                    steps.append(.member(String(Int(inside)!)))
                } else {
                    return nil
                }
                position = close + 1
            case ".":
                guard !needName, !steps.isEmpty else { return nil }
                needName = true
                position += 1
            default:
                guard needName || steps.isEmpty else { return nil }
                var name = ""
                while position < characters.count, characters[position] != ".", characters[position] != "[" {
                    guard !"]{} ".contains(characters[position]) else { return nil }
                    name.append(characters[position])
                    position += 1
                }
                steps.append(.member(name))
                needName = false
            }
        }
        guard !needName, !steps.isEmpty else { return nil }
        self.init(steps: steps, description: text)
    }

    /// Every value the selector names in `document`, in document order.
    package func values(in document: JSONValue) -> [JSONValue] {
        var current = [document]
        for step in steps {
            var next: [JSONValue] = []
            for value in current {
                switch (step, value) {
                case (.member(let name), .object(let fields)):
                    if let found = fields.last(where: { $0.0 == name }) { next.append(found.1) }
                case (.member(let name), .array(let items)):
                    if let position = Int(name), position >= 0, position < items.count { next.append(items[position]) }
                case (.each, .array(let items)):
                    next.append(contentsOf: items)
                case (.each, .object(let fields)):
                    next.append(contentsOf: fields.map(\.1))
                default:
                    break
                }
            }
            current = next
        }
        return current
    }

    /// The first value named, if any.
    package func value(in document: JSONValue) -> JSONValue? { values(in: document).first }
}

extension JSONValue {
    /// A string, number or boolean as the text a URL or header gets; nil for null, arrays and objects.
    package var scalarText: String? {
        switch self {
        case .string(let text), .number(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }
}
