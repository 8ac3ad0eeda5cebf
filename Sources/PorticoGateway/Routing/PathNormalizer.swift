import PorticoConfig

/// The one canonical form of a request path, which is both matched and forwarded.
///
/// RFC 3986 section 6.2.2: percent-encoded unreserved characters are decoded, the hex digits of
/// the rest are upper-cased, and dot segments are removed (section 5.2.4); empty segments are
/// merged when `merge-slashes` is on. What an upstream or a server in front of it could read as
/// another path is refused: encoded slashes and backslashes (unless `escaped-slashes` says
/// otherwise), a raw backslash, a dot segment with `;` parameters (`..;`, which Tomcat reads as
/// `..`), a double-encoded dot, slash or backslash (`%252e`), NUL, controls, raw non-ASCII bytes
/// and invalid percent-encoding. The query is kept as sent.
package struct PathNormalizer: Sendable {
    package let settings: PathSettings

    package init(settings: PathSettings = .init()) {
        self.settings = settings
    }

    /// Why a path was refused: the `detail` of the 400 the client gets.
    package struct Refusal: Error, Sendable, Equatable {
        package let reason: String
    }

    /// The canonical target (path and query) for `target`, or why it is refused.
    package func normalize(_ target: String) -> Result<String, Refusal> {
        // Most targets are canonical already: checked in place, returned as they came, no copy.
        let merge = settings.mergeSlashes
        if target.utf8.withContiguousStorageIfAvailable({ Self.isCanonicalTarget($0, mergeSlashes: merge) }) == true {
            return .success(target)
        }
        let utf8 = Array(target.utf8)
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?"))
        let pathEnd = queryStart ?? utf8.count
        guard pathEnd > 0, utf8[0] == UInt8(ascii: "/") else {
            return .failure(Refusal(reason: "The request target must be a path starting with '/'."))
        }
        if let queryStart {
            for byte in utf8[queryStart...] where byte < 0x20 || byte == 0x7F {
                return .failure(Refusal(reason: "The query holds a control character."))
            }
        }
        if utf8.withUnsafeBufferPointer({ Self.isCanonical($0[..<pathEnd], mergeSlashes: merge) }) {
            return .success(target)
        }

        var segments: [[UInt8]] = [[]]
        var index = 1
        while index < pathEnd {
            let byte = utf8[index]
            switch byte {
            case UInt8(ascii: "/"):
                segments.append([])
            case UInt8(ascii: "\\"):
                return .failure(Refusal(reason: "The path holds a backslash."))
            case UInt8(ascii: "%"):
                guard index + 2 < pathEnd, let high = Self.hex(utf8[index + 1]), let low = Self.hex(utf8[index + 2])
                else { return .failure(Refusal(reason: "The path holds an invalid percent-encoding.")) }
                let value = high << 4 | low
                index += 2
                switch value {
                case 0:
                    return .failure(Refusal(reason: "The path holds an encoded NUL."))
                case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                    switch settings.escapedSlashes {
                    case .reject:
                        return .failure(Refusal(reason: "The path holds an encoded slash or backslash."))
                    case .keep:
                        segments[segments.count - 1] += [UInt8(ascii: "%"), Self.hexDigit(high), Self.hexDigit(low)]
                    case .decode:
                        segments.append([])
                    }
                case UInt8(ascii: "%"):
                    // A double-encoded dot, slash, backslash or NUL becomes one after a second decoding.
                    if index + 2 < pathEnd, let next = Self.hex(utf8[index + 1]), let last = Self.hex(utf8[index + 2]),
                        [0x2E, 0x2F, 0x5C, 0x00].contains(next << 4 | last)
                    {
                        return .failure(Refusal(reason: "The path holds a double-encoded dot, slash or backslash."))
                    }
                    segments[segments.count - 1] += Array("%25".utf8)
                case _ where Self.isUnreserved(value):
                    segments[segments.count - 1].append(value)
                case 0x01...0x1F, 0x7F:
                    return .failure(Refusal(reason: "The path holds an encoded control character."))
                default:
                    segments[segments.count - 1] += [UInt8(ascii: "%"), Self.hexDigit(high), Self.hexDigit(low)]
                }
            default:
                guard byte > 0x20, byte < 0x7F else {
                    return .failure(
                        Refusal(
                            reason: "The path holds a space, a control character or a byte that is not percent-encoded."
                        ))
                }
                segments[segments.count - 1].append(byte)
            }
            index += 1
        }

        var output: [[UInt8]] = []
        var trailingSlash = false
        for (position, segment) in segments.enumerated() {
            let isLast = position == segments.count - 1
            let name =
                segment.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false).first.map(
                    Array.init) ?? []
            let isDot = name == [0x2E], isDotDot = name == [0x2E, 0x2E]
            if (isDot || isDotDot) && name.count != segment.count {
                return .failure(Refusal(reason: "The path holds a dot segment with parameters."))
            }
            trailingSlash = false
            if isDot {
                trailingSlash = isLast
            } else if isDotDot {
                if !output.isEmpty { output.removeLast() }
                trailingSlash = isLast
            } else if segment.isEmpty && (settings.mergeSlashes || isLast) {
                trailingSlash = isLast
            } else {
                output.append(segment)
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(pathEnd)
        for segment in output {
            result.append(UInt8(ascii: "/"))
            result += segment
        }
        if trailingSlash || result.isEmpty { result.append(UInt8(ascii: "/")) }
        if let queryStart { result += utf8[queryStart...] }
        return .success(String(decoding: result, as: UTF8.self))
    }

    /// True when the path needs no change: printable ASCII with no `%`, `\`, `;`, dot segment or
    /// (when merging) empty segment. Most paths are, and are returned without copying.
    /// True when the whole target (path and query) needs no change and no refusal.
    static func isCanonicalTarget(_ target: UnsafeBufferPointer<UInt8>, mergeSlashes: Bool) -> Bool {
        guard let first = target.first, first == UInt8(ascii: "/") else { return false }
        let queryStart = target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        for byte in target[queryStart...] where byte < 0x20 || byte == 0x7F { return false }
        return isCanonical(target[..<queryStart], mergeSlashes: mergeSlashes)
    }

    static func isCanonical(_ path: Slice<UnsafeBufferPointer<UInt8>>, mergeSlashes: Bool) -> Bool {
        var segmentStart = path.startIndex + 1
        var index = path.startIndex + 1
        while index <= path.endIndex {
            let atEnd = index == path.endIndex
            let byte = atEnd ? UInt8(ascii: "/") : path[index]
            if byte == UInt8(ascii: "/") {
                let length = index - segmentStart
                if length == 0 && mergeSlashes && !atEnd { return false }
                if length == 1 && path[segmentStart] == 0x2E { return false }
                if length == 2 && path[segmentStart] == 0x2E && path[segmentStart + 1] == 0x2E { return false }
                segmentStart = index + 1
            } else if byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\")
                || byte == UInt8(ascii: ";")
            {
                return false
            }
            index += 1
        }
        return true
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~")
        }
    }
}
