/// Named values to rename, remove, set (replace) and add (append), with templated values:
/// headers or query parameters.
public struct TemplateRules: Sendable, Hashable {
    public var rename: [(from: String, to: String)]
    public var remove: [String]
    public var set: [(name: String, value: ValueTemplate)]
    public var add: [(name: String, value: ValueTemplate)]

    public init() {
        self.rename = []
        self.remove = []
        self.set = []
        self.add = []
    }

    public var isEmpty: Bool { rename.isEmpty && remove.isEmpty && set.isEmpty && add.isEmpty }

    public static func == (lhs: TemplateRules, rhs: TemplateRules) -> Bool {
        lhs.rename.elementsEqual(rhs.rename, by: ==) && lhs.remove == rhs.remove
            && lhs.set.elementsEqual(rhs.set, by: ==) && lhs.add.elementsEqual(rhs.add, by: ==)
    }

    public func hash(into hasher: inout Hasher) {
        for pair in rename { hasher.combine(pair.from); hasher.combine(pair.to) }
        hasher.combine(remove)
        for pair in set { hasher.combine(pair.name); hasher.combine(pair.value) }
        for pair in add { hasher.combine(pair.name); hasher.combine(pair.value) }
    }
}
