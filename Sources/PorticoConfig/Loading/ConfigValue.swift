/// A config value written as one string, read by its type's `init?(parsing:)`: durations, rates,
/// quotas, addresses, CIDR blocks, limit key parts, hash keys, retry conditions.
/// `ConfigNode.parsed(_:context:)` reads any of them the same way and reports a string that does
/// not read with the type's own message, which says how to write it.
protocol ConfigValue {
    init?(parsing text: String)
    /// The config error for `text` at `context`, with an example of the right form.
    static func problem(_ text: String, context: String) -> String
}

extension ConfigNode {
    /// The node's string as a `Value`, or nil with the problem reported (a missing or non-string
    /// node is reported by `string(context:)`).
    func parsed<Value: ConfigValue>(_ type: Value.Type, context: String) -> Value? {
        guard let text = string(context: context) else { return nil }
        return Self.parse(text, as: type, at: self, context: context)
    }

    /// Each string of the node's list as a `Value`; each one that does not read is reported and left out.
    func parsedList<Value: ConfigValue>(_ type: Value.Type, context: String) -> [Value]? {
        guard let texts = stringList(context: context) else { return nil }
        return texts.compactMap { Self.parse($0, as: type, at: self, context: context) }
    }

    private static func parse<Value: ConfigValue>(
        _ text: String, as type: Value.Type, at node: ConfigNode, context: String
    ) -> Value? {
        guard let value = Value(parsing: text) else {
            node.report(Value.problem(text, context: context))
            return nil
        }
        return value
    }
}

extension ConfigDuration: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context): bad duration '\(text)' (write it like 250ms, 30s, 5m or 1h)"
    }
}

extension RateSpec: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context): bad rate '\(text)' (write it like 10/s, 600/m, 1000/h or 5000/d; at most 1000000/s)"
    }
}

extension QuotaSpec: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context): bad quota '\(text)' (write it like 100/hour, 5000/day or 10000/month)"
    }
}

extension ListenAddress: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context) must be host:port, found '\(text)'"
    }
}

extension CIDRBlock: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context): '\(text)' is not an address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)"
    }
}

extension LimitKeyPart: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context): unknown part '\(text)' (known: consumer, key, ip, route, api, header:NAME)"
    }
}

extension HashKey: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "\(context) must be header:NAME, cookie:NAME, ip, consumer or path, found '\(text)'"
    }
}

extension RetryConfig.Condition: ConfigValue {
    static func problem(_ text: String, context: String) -> String {
        "unknown retry condition '\(text)' (known: connect-failure, reset, timeout, or a 5xx status)"
    }
}
