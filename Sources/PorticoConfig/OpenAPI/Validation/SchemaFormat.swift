import Foundation

/// The `format`s a validator checks. Others (`binary`, `password`, vendor formats) are
/// annotations and pass.
enum SchemaFormat: String, Sendable {
    case dateTime = "date-time"
    case date
    case time
    case email
    case uuid
    case ipv4
    case ipv6
    case uri
    case hostname
    case byte
    case int32
    case int64

    /// Why `text` is not of this format, or nil when it is.
    func problem(_ text: String) -> String? {
        let valid: Bool
        switch self {
        case .dateTime: valid = Self.isDateTime(Substring(text))
        case .date: valid = Self.isDate(Substring(text))
        case .time: valid = Self.isTime(Substring(text))
        case .email: valid = Self.isEmail(text)
        case .uuid: valid = Self.isUUID(text)
        case .ipv4: valid = Self.isIPv4(text)
        case .ipv6: valid = Self.isIPv6(text)
        case .uri: valid = Self.isURI(text)
        case .hostname: valid = Self.isHostname(text)
        case .byte: valid = Data(base64Encoded: text) != nil
        case .int32, .int64: return nil
        }
        return valid ? nil : "expected a string of format \(rawValue), found \(SchemaNode.describe(.string(text)))"
    }

    /// Why a number is out of this format's range (`int32`, `int64`), or nil.
    func problem(number text: String) -> String? {
        guard self == .int32 || self == .int64 else { return nil }
        // Digits alone are exact or out of range; only `1e3` or `5.0` goes through Double, and then
        // `Int64(exactly:)` refuses a fraction and anything past Int64's ends (2^63 traps `Int64(_:)`).
        let digitsOnly = text.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
        }
        guard let value = Int64(text) ?? (digitsOnly ? nil : Double(text).flatMap({ Int64(exactly: $0) })) else {
            return "expected an \(rawValue), found \(text)"
        }
        if self == .int32, value < Int64(Int32.min) || value > Int64(Int32.max) {
            return "expected an int32, found \(text)"
        }
        return nil
    }

    private static func digits(_ text: Substring, _ count: Int) -> Int? {
        guard text.utf8.count == count, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }

    /// RFC 3339 full-date: `2026-12-01`, with the month's days.
    static func isDate(_ text: Substring) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = digits(parts[0], 4), let month = digits(parts[1], 2),
            let day = digits(parts[2], 2),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// RFC 3339 full-time: `23:59:60.5+01:00`, `10:00:00Z`.
    static func isTime(_ text: Substring) -> Bool {
        var rest = text
        guard rest.count >= 9 else { return false }
        let clock = rest.prefix(8)
        rest = rest.dropFirst(8)
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let hour = digits(parts[0], 2), let minute = digits(parts[1], 2),
            let second = digits(parts[2], 2),
            hour < 24, minute < 60, second <= 60
        else { return false }
        if rest.first == "." {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0.isASCII && $0.isNumber }
            guard !fraction.isEmpty else { return false }
            rest = rest.dropFirst(fraction.count)
        }
        if rest == "Z" || rest == "z" { return true }
        guard rest.count == 6, rest.first == "+" || rest.first == "-" else { return false }
        let offset = rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard offset.count == 2, let hours = digits(offset[0], 2), let minutes = digits(offset[1], 2) else {
            return false
        }
        return hours < 24 && minutes < 60
    }

    static func isDateTime(_ text: Substring) -> Bool {
        guard let separator = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return false }
        return isDate(text[..<separator]) && isTime(text[text.index(after: separator)...])
    }

    static func isEmail(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[bytes.index(after: at)...]
        guard !local.isEmpty, local.count <= 64, !local.contains(where: { $0 <= 0x20 || $0 == 0x7F }),
            !domain.contains(UInt8(ascii: "@")), domain.contains(UInt8(ascii: "."))
        else { return false }
        return isHostname(Substring(domain))
    }

    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let value = Int(part)
                else { return false }
                return value <= 255 && (part.count == 1 || part.first != "0")
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &address) } == 1
    }

    /// An absolute URI: a scheme, `:`, and no spaces.
    static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon > text.startIndex else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return false }
        return !text.contains(where: { $0 == " " || $0 == "\n" || $0 == "<" || $0 == ">" })
    }

    /// Labels of ASCII letters, digits and `-` (not first or last), 1 to 63 bytes, 253 in all.
    static func isHostname(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var length = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard length > 0, previous != UInt8(ascii: "-") else { return false }
                length = 0
            } else {
                let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
                let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
                guard letter || digit || byte == UInt8(ascii: "-") else { return false }
                guard !(length == 0 && byte == UInt8(ascii: "-")) else { return false }
                length += 1
                guard length <= 63 else { return false }
            }
            previous = byte
        }
        return length > 0 && previous != UInt8(ascii: "-")
    }
}
