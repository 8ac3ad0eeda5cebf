/// Edits to a JSON body by JSON pointer. A body that is not JSON, or larger than `maxSize`, is
/// passed on unchanged (a request body larger than `maxSize` gets 413 when edits are asked for).
package struct BodyRules: Sendable, Hashable {
    /// Members moved from one pointer to another.
    package var rename: [(from: JSONPointer, to: JSONPointer)]
    /// Members removed.
    package var remove: [JSONPointer]
    /// Members set, created with their parent objects as needed. A template is a string; a
    /// constant is the YAML value as JSON.
    package var set: [(pointer: JSONPointer, value: BodyValue)]
    /// The largest body edited, in bytes: it is held in memory whole.
    package var maxSize: Int

    package static let defaultMaxSize = 1 << 20

    package init(maxSize: Int = BodyRules.defaultMaxSize) {
        self.rename = []
        self.remove = []
        self.set = []
        self.maxSize = maxSize
    }

    package static func == (lhs: BodyRules, rhs: BodyRules) -> Bool {
        lhs.rename.elementsEqual(rhs.rename, by: ==) && lhs.remove == rhs.remove
            && lhs.set.elementsEqual(rhs.set, by: ==)
            && lhs.maxSize == rhs.maxSize
    }

    package func hash(into hasher: inout Hasher) {
        for pair in rename { hasher.combine(pair.from); hasher.combine(pair.to) }
        hasher.combine(remove)
        for pair in set { hasher.combine(pair.pointer); hasher.combine(pair.value) }
        hasher.combine(maxSize)
    }
}

/// A value a body edit sets.
package enum BodyValue: Sendable, Hashable {
    /// A string rendered from the request.
    case template(ValueTemplate)
    /// A fixed JSON value.
    case constant(JSONValue)

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .template(let template): hasher.combine(template)
        case .constant(let value): hasher.combine(value.jsonText)
        }
    }
}
