import Foundation
import Synchronization

/// A string that matches a schema's `pattern`, for the mock, built from the regular expression's
/// common parts: literals and escapes (`\d`, `\w`, `\s`, `\.`), classes (`[A-Z0-9_]`), `.`, groups
/// with alternatives (the first is taken), and the quantifiers `?`, `*`, `+`, `{n}`, `{n,m}`.
/// Anything else (look-arounds, back-references, negated classes) gives nil, and so does a
/// result that the expression itself does not accept; the caller then falls back to an example.
struct PatternSampler {
    private let pattern: [Character]
    private var index = 0
    private var random: (any RandomNumberGenerator)?

    /// Repetitions of an open-ended quantifier (`*`, `+`, `{n,}`) beyond its minimum, at most.
    static let maximumExtra = 3

    static func sample(_ pattern: String, random: (any RandomNumberGenerator)?) -> String? {
        guard pattern.count <= 512 else { return nil }
        var sampler = PatternSampler(pattern: Array(pattern), random: random)
        guard let text = sampler.alternatives(), sampler.index == sampler.pattern.count, text.count <= 4096 else {
            return nil
        }
        guard let regex = compiled(pattern),
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        else { return nil }
        return text
    }

    /// Compiled expressions by pattern, shared (a document repeats its patterns), at most 1,024.
    private static let cache = Mutex<[String: Compiled]>([:])

    private struct Compiled: @unchecked Sendable {
        // NSRegularExpression is immutable once made and safe to use from several threads.
        let regex: NSRegularExpression?
    }

    private static func compiled(_ pattern: String) -> NSRegularExpression? {
        if let known = cache.withLock({ $0[pattern] }) { return known.regex }
        let made = Compiled(regex: try? NSRegularExpression(pattern: pattern))
        cache.withLock { entries in
            if entries.count >= 1024 { entries.removeAll() }
            entries[pattern] = made
        }
        return made.regex
    }

    private init(pattern: [Character], random: (any RandomNumberGenerator)?) {
        self.pattern = pattern
        self.random = random
    }

    private var current: Character? { index < pattern.count ? pattern[index] : nil }

    private mutating func between(_ low: Int, _ high: Int) -> Int {
        guard var source = random, high > low else { return low }
        let value = Int.random(in: low...high, using: &source)
        random = source
        return value
    }

    /// `a|b|c` up to the end or a closing parenthesis; the first alternative is the answer.
    private mutating func alternatives() -> String? {
        guard let first = sequence() else { return nil }
        while current == "|" {
            index += 1
            guard sequence() != nil else { return nil }
        }
        return first
    }

    private mutating func sequence() -> String? {
        var out = ""
        while let character = current, character != "|", character != ")" {
            guard let atom = atom() else { return nil }
            guard let (low, high) = quantifier() else { return nil }
            let count = between(low, high)
            for _ in 0..<count {
                guard let text = atom(&self) else { return nil }
                out += text
                // Nested repetitions could grow without end: a sample is at most 4,096 characters.
                guard out.utf8.count <= 4096 else { return nil }
            }
        }
        return out
    }

    /// One unit of the pattern, as a generator (a class gives a new character each time).
    private mutating func atom() -> ((inout PatternSampler) -> String?)? {
        guard let character = current else { return nil }
        index += 1
        switch character {
        case "^", "$":
            return { _ in "" }
        case ".":
            return { sampler in String(sampler.pick(Array("abcxyz"))) }
        case "(":
            if current == "?" {
                // Only non-capturing groups.
                guard index + 1 < pattern.count, pattern[index + 1] == ":" else { return nil }
                index += 2
            }
            let start = index
            var probe = self
            guard probe.alternatives() != nil, probe.current == ")" else { return nil }
            let end = probe.index
            index = end + 1
            let body = String(pattern[start..<end])
            return { sampler in
                var inner = PatternSampler(pattern: Array(body), random: sampler.random)
                let text = inner.alternatives()
                sampler.random = inner.random
                return text
            }
        case "[":
            guard let set = characterClass() else { return nil }
            return { sampler in String(sampler.pick(set)) }
        case "\\":
            guard let escaped = current else { return nil }
            index += 1
            switch escaped {
            case "d": return { sampler in String(sampler.pick(Array("0123456789"))) }
            case "w": return { sampler in String(sampler.pick(Array("abcdefghijklmnopqrstuvwxyz0123456789"))) }
            case "s": return { _ in " " }
            default:
                guard !escaped.isLetter && !escaped.isNumber else { return nil }
                return { _ in String(escaped) }
            }
        case "*", "+", "?", "{", "}", "]", ")", "|":
            return nil
        default:
            return { _ in String(character) }
        }
    }

    private mutating func characterClass() -> [Character]? {
        guard current != "^" else { return nil }
        var set: [Character] = []
        while let character = current, character != "]" {
            index += 1
            var value = character
            if character == "\\" {
                guard let escaped = current else { return nil }
                index += 1
                switch escaped {
                case "d": set += Array("0123456789"); continue
                case "w": set += Array("abcdefghijklmnopqrstuvwxyz0123456789_"); continue
                case "s": set.append(" "); continue
                default: value = escaped
                }
            }
            if current == "-", index + 1 < pattern.count, pattern[index + 1] != "]" {
                let upper = pattern[index + 1]
                index += 2
                guard let low = value.unicodeScalars.first?.value, let high = upper.unicodeScalars.first?.value,
                    low <= high,
                    high - low < 1024
                else { return nil }
                set += (low...high).compactMap { Unicode.Scalar($0).map(Character.init) }
            } else {
                set.append(value)
            }
        }
        guard current == "]", !set.isEmpty else { return nil }
        index += 1
        return set
    }

    /// The repetitions after an atom: `(1, 1)` when none is written.
    private mutating func quantifier() -> (Int, Int)? {
        switch current {
        case "?": index += 1; return lazy(0, 1)
        case "*": index += 1; return lazy(0, Self.maximumExtra)
        case "+": index += 1; return lazy(1, 1 + Self.maximumExtra)
        case "{":
            guard let close = pattern[index...].firstIndex(of: "}") else { return nil }
            let body = String(pattern[(index + 1)..<close])
            index = close + 1
            let parts = body.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = Int(parts[0].trimmingWhitespace()), low <= 256 else { return nil }
            var high = low
            if parts.count == 2 {
                let upper = parts[1].trimmingWhitespace()
                high = upper.isEmpty ? low + Self.maximumExtra : min(Int(upper) ?? low, low + 256)
            }
            return lazy(low, max(low, high))
        default:
            return (1, 1)
        }
    }

    /// A quantifier's `?` (lazy) or `+` (possessive) suffix changes nothing here.
    private mutating func lazy(_ low: Int, _ high: Int) -> (Int, Int) {
        if current == "?" || current == "+" { index += 1 }
        return random == nil ? (low, low) : (low, high)
    }

    private mutating func pick(_ set: [Character]) -> Character {
        set[between(0, set.count - 1)]
    }
}
