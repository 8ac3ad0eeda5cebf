/// A `Range: bytes=…` request header against a representation of known length (RFC 9110 §14).
enum ByteRanges: Equatable {
    /// Serve the whole representation: no valid byte ranges, or too many to be an honest request.
    case whole
    /// 416: none of the ranges overlaps the representation.
    case unsatisfiable
    /// 206 with these ranges (offsets, inclusive), in the order asked.
    case ranges([ClosedRange<Int>])

    /// More ranges than this, or ranges that together ask for more than the representation
    /// twice over, are answered with the whole representation (RFC 9110 §14.2 allows ignoring
    /// Range, and warns of many small or overlapping ranges as a denial of service).
    static let maximumRanges = 16

    static func parse(_ value: String, length: Int) -> ByteRanges {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !specs.isEmpty, specs.count <= maximumRanges else { return .whole }
        var ranges: [ClosedRange<Int>] = []
        var total = 0
        for spec in specs {
            guard let dash = spec.firstIndex(of: "-") else { return .whole }
            let first = spec[..<dash]
            let last = spec[spec.index(after: dash)...]
            if first.isEmpty {
                // A suffix: the last N bytes.
                guard let suffix = digits(last), suffix > 0 else {
                    if digits(last) == 0 { continue }
                    return .whole
                }
                guard length > 0 else { continue }
                ranges.append(max(0, length - suffix)...(length - 1))
            } else {
                guard let start = digits(first) else { return .whole }
                var end = length - 1
                if !last.isEmpty {
                    guard let value = digits(last), value >= start else { return .whole }
                    end = min(value, length - 1)
                }
                guard start < length else { continue }
                ranges.append(start...end)
            }
            total += ranges.last.map { $0.count } ?? 0
        }
        guard !ranges.isEmpty else { return .unsatisfiable }
        if total > 2 * max(length, 1) { return .whole }
        return .ranges(ranges)
    }

    /// A non-negative decimal, nil when not digits or past 15 digits (no length is that long).
    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 15, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(text)
    }
}
