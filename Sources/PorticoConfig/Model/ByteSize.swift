/// Sizes written in a config as `512`, `64KiB`, `1MiB`, `2GiB` (or the decimal `KB`, `MB`, `GB`).
package enum ByteSize {
    /// Parses a size into bytes, or returns nil.
    package static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        let units: [(suffix: String, factor: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = Int(trimmed.dropLast(unit.suffix.count).trimmingWhitespace()), value >= 0 else {
                return nil
            }
            let (bytes, overflow) = value.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : bytes
        }
        guard let value = Int(trimmed), value >= 0 else { return nil }
        return value
    }
}
