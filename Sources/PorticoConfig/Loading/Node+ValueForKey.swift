import Yams

extension Node {
    /// The value under `key` in a mapping, compared as plain text.
    ///
    /// Yams' own subscript compares whole nodes, resolving each key's YAML tag with a regular
    /// expression; that made config loading several times slower.
    func value(forKey key: String) -> Node? {
        guard case .mapping(let mapping) = self else { return nil }
        return mapping.first { $0.key.string == key }?.value
    }
}
