import Crypto
import Foundation

/// API keys: how they are made, shown and kept.
///
/// A key is `ptk_` and 32 random base62 characters (about 190 bits). Only its SHA-256 digest
/// and its first 12 characters (the visible prefix, enough to tell keys apart in a list) are
/// ever stored; the key itself is printed once, when it is created.
package enum APIKey {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    package static let prefixLength = 12

    /// A new random key.
    package static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array("ptk_".utf8)
        for _ in 0..<32 { bytes.append(alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The SHA-256 digest of a key, as stored.
    package static func digest(_ key: some StringProtocol) -> [UInt8] {
        var key = String(key)
        let digest = key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { Array($0) }
    }

    /// The digest as lower-case hex, the form the store and the config use.
    package static func hexDigest(_ key: some StringProtocol) -> String {
        hex(digest(key))
    }

    /// The part of a key that may be shown: its first 12 characters.
    package static func visiblePrefix(_ key: String) -> String {
        String(key.prefix(prefixLength))
    }

    package static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes from lower- or upper-case hex; nil if `text` is not hex of whole bytes.
    package static func bytes(fromHex text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ char: UInt8) -> UInt8? {
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    package static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
