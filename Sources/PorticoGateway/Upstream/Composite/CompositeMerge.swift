import PorticoConfig

/// Builds a composite endpoint's answer from its calls' results: each answer shaped by its
/// call's rules, placed under its group (or merged into the top level), then the result's rules,
/// its wrap, and the `_partial` list when the endpoint asks for it.
struct CompositeMerge {
    let config: CompositeConfig
    /// In declaration order.
    let calls: [BackendCallConfig]

    func merge(_ results: [String: CallResult], failures: [CallFailure]) -> JSONValue {
        var pieces: [(call: BackendCallConfig, value: JSONValue)] = []
        for call in calls {
            guard let answer = results[call.name]?.answer else { continue }
            pieces.append((call, shape(answer.body, call: call)))
        }
        var result: JSONValue
        if config.result.array {
            var items: [JSONValue] = []
            for piece in pieces {
                // A for-each call adds its elements, each other call its answer.
                if piece.call.forEach != nil, case .array(let elements) = piece.value {
                    items += elements
                } else {
                    items.append(piece.value)
                }
            }
            result = .array(items)
        } else {
            var fields: [(String, JSONValue)] = []
            func put(_ key: String, _ value: JSONValue) {
                if let position = fields.firstIndex(where: { $0.0 == key }) {
                    fields[position].1 = value
                } else {
                    fields.append((key, value))
                }
            }
            for piece in pieces {
                if let group = piece.call.group {
                    put(group, piece.value)
                } else if case .object(let members) = piece.value, piece.call.forEach == nil {
                    // Merged into the top level; a later call's member of the same name wins.
                    for (key, value) in members { put(key, value) }
                } else {
                    put(piece.call.name, piece.value)
                }
            }
            result = .object(fields)
        }
        result = config.result.rules.apply(to: result)
        if let wrap = config.result.wrap { result = .object([(wrap, result)]) }
        if config.partial == .body, !failures.isEmpty, case .object(var fields) = result {
            fields.append(
                (
                    "_partial",
                    .array(failures.map { .object([("call", .string($0.name)), ("reason", .string($0.reason))]) })
                ))
            result = .object(fields)
        }
        return result
    }

    /// One call's answer shaped by its rules; a `for-each`'s elements are shaped one by one, and
    /// `flatten` then applies to the collected array.
    func shape(_ body: JSONValue, call: BackendCallConfig) -> JSONValue {
        guard call.forEach != nil, case .array(let elements) = body else { return call.rules.apply(to: body) }
        var perElement = call.rules
        perElement.flatten = false
        var collected = JSONValue.array(elements.map { perElement.apply(to: $0) })
        if call.rules.flatten {
            var flat = MergeRules()
            flat.flatten = true
            collected = flat.apply(to: collected)
        }
        return collected
    }
}
