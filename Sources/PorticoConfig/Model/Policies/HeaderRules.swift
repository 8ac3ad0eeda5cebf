/// Edits to a header list, applied in the order remove, set, add.
package struct HeaderRules: Sendable, Hashable {
    /// Replace any existing value.
    package var set: [HeaderPair]
    /// Append a value, keeping existing ones.
    package var add: [HeaderPair]
    /// Header names to drop.
    package var remove: [String]

    package init(set: [HeaderPair] = [], add: [HeaderPair] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }
}
