/// A duration written in a config as `250ms`, `30s`, `5m`, `1h` or `7d` (a bare number means seconds).
package struct ConfigDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The duration in milliseconds.
    package var milliseconds: Int64

    package init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    package static func seconds(_ seconds: Int64) -> ConfigDuration { .init(milliseconds: seconds * 1000) }

    /// The longest duration any setting or parameter accepts: 100 years. Longer text is refused
    /// rather than rounded, so no conversion downstream can overflow.
    package static let maximum = ConfigDuration(milliseconds: 100 * 365 * 86_400_000)

    /// Parses `250ms`, `1.5s`, `30s`, `5m`, `1h`, or a bare number of seconds. Returns nil for anything else.
    package init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        let units: [(suffix: String, factor: Double)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        var number = Substring(trimmed)
        var factor = 1000.0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            factor = unit.factor
            break
        }
        guard !number.isEmpty, number.utf8.count <= 32,
            number.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }),
            let value = Double(number), value.isFinite, value >= 0
        else { return nil }
        let milliseconds = (value * factor).rounded()
        guard milliseconds <= Double(Self.maximum.milliseconds) else { return nil }
        self.milliseconds = Int64(milliseconds)
    }

    package var seconds: Double { Double(milliseconds) / 1000 }

    package var duration: Duration { .milliseconds(milliseconds) }

    package static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }

    package var description: String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace.
    package func trimmingWhitespace() -> String {
        String(withoutSurroundingWhitespace)
    }

    /// The same as a slice, without copying (for header tokens on the request path).
    package var withoutSurroundingWhitespace: Substring {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return view
    }
}
