/// A path segment made of literal text and parameters, such as `{Sid}.json` or `{owner}-{repo}`.
///
/// Two parameters must have literal text between them (`{a}{b}` could be split anywhere). A
/// segment matches when its literal prefix and suffix are where the pattern has them and each
/// parameter takes the shortest non-empty text before the next literal part: `{name}.{ext}` reads
/// `archive.tar.gz` as `archive` and `tar.gz`. Matching never backtracks, so it costs one scan
/// per literal part whatever a client sends.
package struct SegmentPattern: Sendable, Hashable {
    package enum Piece: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    package let pieces: [Piece]
    /// The pieces' literal bytes, for matching.
    private let literalBytes: [[UInt8]]

    /// At most this many parameters in one segment.
    package static let maximumParameters = 8

    init?(parsing text: Substring) {
        guard case .success(let pattern) = Self.parse(text) else { return nil }
        self = pattern
    }

    private init(pieces: [Piece]) {
        self.pieces = pieces
        self.literalBytes = pieces.map { piece in
            if case .literal(let text) = piece { return Array(text.utf8) }
            return []
        }
    }

    /// Reads `{name}` parameters and the literal text around them.
    package static func parse(_ text: Substring) -> Result<SegmentPattern, PatternProblem> {
        var pieces: [Piece] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "}" { return .failure(.init("a '}' without its '{'")) }
            guard character == "{" else {
                literal.append(character)
                index = text.index(after: index)
                continue
            }
            guard let close = text[index...].firstIndex(of: "}") else {
                return .failure(.init("a '{' without its '}'"))
            }
            let name = text[text.index(after: index)..<close]
            guard !name.isEmpty, !name.contains("{") else {
                return .failure(.init("a parameter needs a name like {id}"))
            }
            if !literal.isEmpty {
                pieces.append(.literal(literal))
                literal = ""
            } else if case .parameter? = pieces.last {
                return .failure(.init("two parameters need literal text between them"))
            }
            pieces.append(.parameter(String(name)))
            index = text.index(after: close)
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        let count = pieces.count { if case .parameter = $0 { true } else { false } }
        guard count <= maximumParameters else {
            return .failure(.init("more than \(maximumParameters) parameters in one segment"))
        }
        return .success(SegmentPattern(pieces: pieces))
    }

    package struct PatternProblem: Error, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    package var parameterNames: [String] {
        pieces.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
    }

    /// Bytes of literal text; patterns with more are tried first.
    package var literalLength: Int { literalBytes.reduce(0) { $0 + $1.count } }

    /// The pattern with parameter names blanked: `{}.json`.
    package var shape: String {
        pieces.map { piece in
            switch piece {
            case .literal(let text): return text
            case .parameter: return "{}"
            }
        }.joined()
    }

    /// The parameters' values (raw, not percent-decoded) in `segment`, or nil when it does not fit.
    package func match(_ segment: Substring) -> [(name: String, value: Substring)]? {
        let bytes = segment.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        var first = 0
        var last = pieces.count
        // A literal prefix and suffix are anchored.
        if case .literal = pieces[0] {
            guard bytes.starts(with: literalBytes[0]) else { return nil }
            start = bytes.index(start, offsetBy: literalBytes[0].count)
            first = 1
        }
        if last > first, case .literal = pieces[last - 1] {
            let suffix = literalBytes[last - 1]
            guard bytes.distance(from: start, to: end) >= suffix.count else { return nil }
            let suffixStart = bytes.index(end, offsetBy: -suffix.count)
            guard bytes[suffixStart...].elementsEqual(suffix) else { return nil }
            end = suffixStart
            last -= 1
        }
        var values: [(name: String, value: Substring)] = []
        var position = start
        var index = first
        while index < last {
            guard case .parameter(let name) = pieces[index] else { return nil }
            // A parameter followed by nothing takes the rest; else the text up to the next literal part.
            guard position < end else { return nil }
            if index + 1 == last {
                values.append((name, Substring(bytes[position..<end])))
                position = end
                index += 1
                continue
            }
            let separator = literalBytes[index + 1]
            guard let found = Self.firstIndex(of: separator, in: bytes, from: bytes.index(after: position), before: end)
            else { return nil }
            values.append((name, Substring(bytes[position..<found])))
            position = bytes.index(found, offsetBy: separator.count)
            index += 2
        }
        return position == end ? values : nil
    }

    /// Where `needle` first starts in `bytes[from..<before]`, wholly inside it.
    private static func firstIndex(
        of needle: [UInt8], in bytes: Substring.UTF8View, from: Substring.UTF8View.Index,
        before: Substring.UTF8View.Index
    ) -> Substring.UTF8View.Index? {
        guard let head = needle.first else { return nil }
        var index = from
        while index < before {
            guard bytes.distance(from: index, to: before) >= needle.count else { return nil }
            if bytes[index] == head, bytes[index...].starts(with: needle) { return index }
            index = bytes.index(after: index)
        }
        return nil
    }
}
