/// `multipart/form-data` (RFC 7578) read into its parts: each part's field name, file name,
/// content type and bytes. Bounded by the body it reads (which the policy bounds) and by
/// `maximumParts`.
enum MultipartBody {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    static let maximumParts = 1000

    /// The `boundary` parameter of a Content-Type.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pieces = parameter.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2, pieces[0].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var value = pieces[1].trimmingWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value.isEmpty || value.utf8.count > 70 ? nil : value
        }
        return nil
    }

    static func parts(_ bytes: [UInt8], boundary: String) -> Result<[Part], Problem> {
        let delimiter = Array(("--" + boundary).utf8)
        guard var position = find(delimiter, in: bytes, from: 0) else {
            return .failure(.init("the boundary does not occur"))
        }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            // `--` after a delimiter closes the body.
            if position + 1 < bytes.count, bytes[position] == UInt8(ascii: "-"),
                bytes[position + 1] == UInt8(ascii: "-")
            {
                return .success(parts)
            }
            guard position + 1 < bytes.count, bytes[position] == 13, bytes[position + 1] == 10 else {
                return .failure(.init("a boundary line does not end in CRLF"))
            }
            position += 2
            guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: position) else {
                return .failure(.init("a part's headers do not end"))
            }
            let headers = String(decoding: bytes[position..<headerEnd], as: UTF8.self)
            let bodyStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: bytes, from: bodyStart) else {
                return .failure(.init("the closing boundary is missing"))
            }
            guard parts.count < maximumParts else { return .failure(.init("more than \(maximumParts) parts")) }
            var part = Part(name: "", filename: nil, contentType: nil, body: Array(bytes[bodyStart..<next]))
            for line in headers.split(separator: "\r\n") {
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let name = pieces[0].trimmingWhitespace().lowercased()
                let value = pieces[1].trimmingWhitespace()
                if name == "content-type" { part.contentType = value }
                if name == "content-disposition" {
                    part.name = parameter("name", in: value) ?? ""
                    part.filename = parameter("filename", in: value)
                }
            }
            guard !part.name.isEmpty else { return .failure(.init("a part has no Content-Disposition name")) }
            parts.append(part)
            position = next + 2
        }
    }

    /// A parameter of a Content-Disposition value: `form-data; name="a"; filename="b.png"`.
    private static func parameter(_ wanted: String, in value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == wanted else { continue }
            var text = pair[1].trimmingWhitespace()
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                text = String(text.dropFirst().dropLast())
            }
            return text
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var index = start
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
