import CompressNIO

/// A content coding the gateway can compress with (RFC 9110 §8.4.1): `gzip`, and `deflate`,
/// which HTTP defines as the zlib format (RFC 1950), not raw deflate.
package enum ContentCoding: String, Sendable, CaseIterable {
    case gzip
    case deflate

    var algorithm: ZlibAlgorithm {
        switch self {
        case .gzip: .gzip
        case .deflate: .zlib
        }
    }

    /// The coding to answer with for `Accept-Encoding` (RFC 9110 §12.5.3): the offered coding with
    /// the highest q-value, ties going to the earlier offer; nil for identity. `*` covers codings
    /// not named; `x-gzip` is `gzip`; an entry with a malformed q-value is ignored.
    static func negotiate(_ values: [String], offered: [ContentCoding]) -> ContentCoding? {
        guard !values.isEmpty, !offered.isEmpty else { return nil }
        var named: [ContentCoding: Int] = [:]
        var wildcard: Int?
        for value in values {
            for entry in value.split(separator: ",") {
                let parts = entry.split(separator: ";")
                guard let first = parts.first else { continue }
                let token = first.trimmingCharacters(in: .whitespaces).lowercased()
                var quality = 1000
                var valid = true
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "q" else {
                        continue
                    }
                    guard let parsed = Self.quality(pair[1].trimmingCharacters(in: .whitespaces)) else {
                        valid = false
                        break
                    }
                    quality = parsed
                }
                guard valid else { continue }
                switch token {
                case "*": wildcard = quality
                case "x-gzip": named[.gzip] = max(named[.gzip] ?? 0, quality)
                default:
                    if let coding = ContentCoding(rawValue: token) { named[coding] = max(named[coding] ?? 0, quality) }
                }
            }
        }
        var best: (coding: ContentCoding, quality: Int)?
        for coding in offered {
            let quality = named[coding] ?? wildcard ?? 0
            if quality > 0, quality > (best?.quality ?? 0) { best = (coding, quality) }
        }
        return best?.coding
    }

    /// A q-value in thousandths: `0`, `0.5`, `1`, `1.000` (RFC 9110 §12.4.2), or nil.
    static func quality(_ text: String) -> Int? {
        let utf8 = Array(text.utf8)
        guard let first = utf8.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1"), utf8.count <= 5 else {
            return nil
        }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        guard utf8.count > 1 else { return value }
        guard utf8[1] == UInt8(ascii: ".") else { return nil }
        var scale = 100
        for byte in utf8.dropFirst(2) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value += Int(byte - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }
}
