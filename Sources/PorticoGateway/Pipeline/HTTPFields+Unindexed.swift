import HTTPTypes

/// Fields whose value is new in every message (the request id, `traceparent`), which HTTP/2's
/// header compression is not to enter in its dynamic table (RFC 7541 §7.1): NIOHPACK indexes
/// every field by default, so each one cost an insertion and an eviction and pushed out a field
/// that repeats. HTTP/1.1 ignores the strategy.
extension HTTPFields {
    /// Sets `name` to `value` alone, as a field not to be indexed.
    mutating func setUnindexed(_ name: HTTPField.Name, _ value: String) {
        var field = HTTPField(name: name, value: value)
        field.indexingStrategy = .avoid
        self[fields: name] = [field]
    }
}
