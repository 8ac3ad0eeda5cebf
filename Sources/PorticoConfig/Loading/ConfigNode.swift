import Foundation
import Yams

/// A YAML node together with where it came from, so every typed read can report `file:line:column`.
///
/// The readers return `nil` after reporting a problem; the loader keeps going and collects the rest.
struct ConfigNode {
    let node: Node
    let file: String
    let sink: DiagnosticSink
    let environment: EnvironmentInterpolation

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    func report(_ message: String) {
        sink.report(message, file: file, line: line, column: column)
    }

    /// Notes something that does not stop the config from loading.
    func warn(_ message: String) {
        sink.warn(message, file: file, line: line, column: column)
    }

    func child(_ node: Node) -> ConfigNode {
        ConfigNode(node: node, file: file, sink: sink, environment: environment)
    }

    /// The scalar's text with `${VAR}` references replaced; reports and returns nil when one is unset.
    private func text(of scalar: Node.Scalar) -> String? {
        switch environment.apply(scalar.string) {
        case .success(let value):
            return value
        case .failure(.unset(let name)):
            report("environment variable \(name) is not set (write ${\(name):-default} to give a default)")
            return nil
        case .failure(.unterminated):
            report("unterminated ${ in '\(scalar.string)'")
            return nil
        }
    }

    /// True for an explicit YAML null (`~`, `null` or nothing), which optional keys treat as absent.
    var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    // MARK: Shapes

    /// The entries of a mapping, in file order, with keys checked against `allowed`.
    ///
    /// Keys starting with `x-` are left for extensions and never reported.
    func mapping(allowed: Set<String>?, context: String) -> [(key: String, keyNode: ConfigNode, value: ConfigNode)]? {
        guard case .mapping(let mapping) = node else {
            report("\(context) must be a mapping, found \(kind)")
            return nil
        }
        var entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)] = []
        for (key, value) in mapping {
            let keyNode = child(key)
            guard let name = key.string else {
                keyNode.report("\(context) keys must be strings")
                continue
            }
            if let allowed, !allowed.contains(name), !name.hasPrefix("x-") {
                let known = allowed.sorted().joined(separator: ", ")
                keyNode.report("unknown key '\(name)' in \(context) (known keys: \(known))")
                continue
            }
            entries.append((name, keyNode, child(value)))
        }
        return entries
    }

    /// A mapping read into a dictionary of child nodes, keys checked against `allowed`.
    func fields(allowed: Set<String>, context: String) -> [String: ConfigNode]? {
        guard let entries = mapping(allowed: allowed, context: context) else { return nil }
        var result: [String: ConfigNode] = [:]
        for entry in entries { result[entry.key] = entry.value }
        return result
    }

    func sequence(context: String) -> [ConfigNode]? {
        guard case .sequence(let sequence) = node else {
            report("\(context) must be a list, found \(kind)")
            return nil
        }
        return sequence.map { child($0) }
    }

    // MARK: Scalars

    func string(context: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report("\(context) must be a string, found \(kind)")
            return nil
        }
        return text(of: scalar)
    }

    func nonEmptyString(context: String) -> String? {
        guard let value = string(context: context) else { return nil }
        guard !value.isEmpty else {
            report("\(context) must not be empty")
            return nil
        }
        return value
    }

    func int(context: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, let value = text(of: scalar).flatMap({ Int($0) }) else {
            report("\(context) must be a whole number, found \(describeValue)")
            return nil
        }
        if let range, !range.contains(value) {
            report("\(context) must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    func bool(context: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            report("\(context) must be true or false, found \(kind)")
            return nil
        }
        switch text(of: scalar)?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case nil: return nil
        default:
            report("\(context) must be true or false, found '\(scalar.string)'")
            return nil
        }
    }

    /// One of an enumeration's raw values; anything else is reported with the known ones.
    func choice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type, context: String) -> Choice?
    where Choice.RawValue == String {
        guard let text = nonEmptyString(context: context) else { return nil }
        guard let value = Choice(rawValue: text) else {
            report(
                "\(context): unknown value '\(text)' (known: \(Choice.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
            return nil
        }
        return value
    }

    func duration(context: String) -> ConfigDuration? {
        parsed(ConfigDuration.self, context: context)
    }

    /// A duration of at least `minimum` (written as in a config, like `1m`); shorter ones are reported.
    func duration(context: String, atLeast minimum: String) -> ConfigDuration? {
        guard let value = duration(context: context) else { return nil }
        guard let floor = ConfigDuration(parsing: minimum), value >= floor else {
            report("\(context) must be at least \(minimum)")
            return nil
        }
        return value
    }

    func byteSize(context: String) -> Int? {
        guard let text = string(context: context) else { return nil }
        guard let value = ByteSize.parse(text) else {
            report("\(context): bad size '\(text)' (write it like 512, 64KiB, 1MiB or 2GiB)")
            return nil
        }
        return value
    }

    /// A share written `50%` or `0.5`, as a number from 0 to 1.
    func fraction(context: String) -> Double? {
        guard let text = string(context: context) else { return nil }
        let trimmed = text.trimmingWhitespace()
        let value = trimmed.hasSuffix("%") ? Double(trimmed.dropLast()).map { $0 / 100 } : Double(trimmed)
        guard let value, (0...1).contains(value) else {
            report("\(context) must be a share like 20% or 0.2, found '\(text)'")
            return nil
        }
        return value
    }

    func stringList(context: String) -> [String]? {
        if case .scalar = node {
            return string(context: context).map { [$0] }
        }
        guard let items = sequence(context: context) else { return nil }
        let values = items.compactMap { $0.string(context: "each item of \(context)") }
        return values.count == items.count ? values : nil
    }

    // MARK: Description

    var kind: String {
        switch node {
        case .scalar: return "a scalar '\(node.string ?? "")'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private var describeValue: String {
        if case .scalar(let scalar) = node { return "'\(scalar.string)'" }
        return kind
    }
}
