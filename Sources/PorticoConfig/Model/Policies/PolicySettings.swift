/// A group of policy settings that an API, a route, an OpenAPI document or an operation may set,
/// and how a more specific level overrides a less specific one. Every field is optional, so
/// "not set here" is nil, and the group lists each field once with its rule (`overrides`), so a
/// field added without one is caught by `PolicyConfigTests`.
package protocol PolicySettings: Sendable, Hashable {
    init()
    /// Each stored field once, with its override rule.
    static var overrides: [FieldOverride<Self>] { get }
}

extension PolicySettings {
    /// These settings with every field that `more` sets taken from `more`: the most specific level
    /// wins field by field.
    package func overridden(by more: Self) -> Self {
        var merged = self
        for rule in Self.overrides { rule.apply(more, &merged) }
        return merged
    }

    /// How many fields have an override rule; a test holds it to the number of stored properties.
    package static var overrideRuleCount: Int { overrides.count }
}

/// How one field of a `PolicySettings` group is overridden.
package struct FieldOverride<Root>: Sendable {
    let apply: @Sendable (Root, inout Root) -> Void

    /// A value set at the more specific level replaces the other; lists too (a route's `scopes`
    /// are the route's, not added to the API's).
    package static func take<Value>(_ field: any WritableKeyPath<Root, Value?> & Sendable) -> Self {
        FieldOverride { more, merged in
            if let value = more[keyPath: field] { merged[keyPath: field] = value }
        }
    }

    /// A group of its own, overridden field by field by its own rules.
    package static func group<Group: PolicySettings>(_ field: any WritableKeyPath<Root, Group> & Sendable) -> Self {
        FieldOverride { more, merged in
            merged[keyPath: field] = merged[keyPath: field].overridden(by: more[keyPath: field])
        }
    }
}
