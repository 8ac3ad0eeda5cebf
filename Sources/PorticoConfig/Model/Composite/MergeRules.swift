/// What is kept of a JSON answer, as a composite endpoint shapes each call's answer and the
/// merged result: `target` first, then `allow`, `deny`, `rename` and `move`, in that order.
///
/// Pointers may hold `*` tokens, which match every element of an array (and every member of an
/// object): `/items/*/price`.
package struct MergeRules: Sendable, Hashable {
    /// The part of the answer to use instead of the whole (`/data`).
    package var target: JSONPointer?
    /// When set, only these members are kept (with their parents).
    package var allow: [JSONSelector] = []
    /// Members removed.
    package var deny: [JSONSelector] = []
    /// Members renamed where they are: the pointer's last token becomes the new name.
    package var rename: [Rename] = []
    /// Members moved from one pointer to another (no wildcards).
    package var move: [Move] = []
    /// An array of arrays becomes one array.
    package var flatten = false

    package struct Rename: Sendable, Hashable {
        package var from: JSONSelector
        package var to: String
        package init(from: JSONSelector, to: String) {
            self.from = from
            self.to = to
        }
    }

    package struct Move: Sendable, Hashable {
        package var from: JSONPointer
        package var to: JSONPointer
        package init(from: JSONPointer, to: JSONPointer) {
            self.from = from
            self.to = to
        }
    }

    package init() {}

    package var isEmpty: Bool { self == MergeRules() }

    /// `value` shaped by the rules.
    package func apply(to value: JSONValue) -> JSONValue {
        var value = value
        if let target { value = target.value(in: value) ?? .null }
        if !allow.isEmpty { value = Self.project(value, patterns: allow.map { $0.steps[...] }) }
        for selector in deny { Self.remove(selector.steps[...], from: &value) }
        for rename in rename { Self.rename(rename.from.steps[...], to: rename.to, in: &value) }
        for move in move {
            if let moved = move.from.remove(from: &value) { move.to.set(moved, in: &value) }
        }
        if flatten, case .array(let items) = value {
            value = .array(
                items.flatMap { item -> [JSONValue] in
                    if case .array(let inner) = item { return inner }
                    return [item]
                })
        }
        return value
    }

    private static func matches(_ step: JSONSelector.Step, key: String) -> Bool {
        switch step {
        case .each: return true
        case .member(let name): return name == key
        }
    }

    /// Only what the patterns reach, with the parents that lead there, in document order.
    static func project(_ value: JSONValue, patterns: [ArraySlice<JSONSelector.Step>]) -> JSONValue {
        if patterns.contains(where: \.isEmpty) { return value }
        switch value {
        case .object(let fields):
            var kept: [(String, JSONValue)] = []
            for (key, child) in fields {
                let rest = patterns.filter { matches($0.first!, key: key) }.map { $0.dropFirst() }
                if !rest.isEmpty { kept.append((key, project(child, patterns: rest))) }
            }
            return .object(kept)
        case .array(let items):
            var kept: [JSONValue] = []
            for (index, child) in items.enumerated() {
                let rest = patterns.filter { matches($0.first!, key: String(index)) }.map { $0.dropFirst() }
                if !rest.isEmpty { kept.append(project(child, patterns: rest)) }
            }
            return .array(kept)
        default:
            // A scalar where the pattern wanted to go deeper: nothing of it is allowed.
            return .null
        }
    }

    static func remove(_ steps: ArraySlice<JSONSelector.Step>, from value: inout JSONValue) {
        guard let step = steps.first else { return }
        let rest = steps.dropFirst()
        switch value {
        case .object(var fields):
            if rest.isEmpty {
                fields.removeAll { matches(step, key: $0.0) }
            } else {
                for index in fields.indices where matches(step, key: fields[index].0) {
                    remove(rest, from: &fields[index].1)
                }
            }
            value = .object(fields)
        case .array(var items):
            if rest.isEmpty {
                items = items.enumerated().filter { !matches(step, key: String($0.offset)) }.map(\.element)
            } else {
                for index in items.indices where matches(step, key: String(index)) { remove(rest, from: &items[index]) }
            }
            value = .array(items)
        default:
            break
        }
    }

    static func rename(_ steps: ArraySlice<JSONSelector.Step>, to newName: String, in value: inout JSONValue) {
        guard let step = steps.first else { return }
        let rest = steps.dropFirst()
        switch value {
        case .object(var fields):
            if rest.isEmpty {
                // The member keeps its place under its new name; one already called so goes.
                guard case .member(let name) = step, name != newName, fields.contains(where: { $0.0 == name }) else {
                    return
                }
                fields.removeAll { $0.0 == newName }
                if let position = fields.lastIndex(where: { $0.0 == name }) { fields[position].0 = newName }
            } else {
                for index in fields.indices where matches(step, key: fields[index].0) {
                    rename(rest, to: newName, in: &fields[index].1)
                }
            }
            value = .object(fields)
        case .array(var items):
            guard !rest.isEmpty else { return }
            for index in items.indices where matches(step, key: String(index)) {
                rename(rest, to: newName, in: &items[index])
            }
            value = .array(items)
        default:
            break
        }
    }
}
