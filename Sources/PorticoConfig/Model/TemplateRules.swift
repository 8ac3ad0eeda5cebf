/// Named values to rename, remove, set (replace) and add (append), with templated values:
/// headers or query parameters.
package struct TemplateRules: Sendable, Hashable {
    package var rename: [(from: String, to: String)]
    package var remove: [String]
    package var set: [(name: String, value: ValueTemplate)]
    package var add: [(name: String, value: ValueTemplate)]

    package init() {
        self.rename = []
        self.remove = []
        self.set = []
        self.add = []
    }

    package var isEmpty: Bool { rename.isEmpty && remove.isEmpty && set.isEmpty && add.isEmpty }

    package static func == (lhs: TemplateRules, rhs: TemplateRules) -> Bool {
        lhs.rename.elementsEqual(rhs.rename, by: ==) && lhs.remove == rhs.remove
            && lhs.set.elementsEqual(rhs.set, by: ==) && lhs.add.elementsEqual(rhs.add, by: ==)
    }

    package func hash(into hasher: inout Hasher) {
        for pair in rename { hasher.combine(pair.from); hasher.combine(pair.to) }
        hasher.combine(remove)
        for pair in set { hasher.combine(pair.name); hasher.combine(pair.value) }
        for pair in add { hasher.combine(pair.name); hasher.combine(pair.value) }
    }
}
