import Crypto
import CryptoExtras
import Foundation

/// Consumer passwords for HTTP Basic, kept as salted PBKDF2-HMAC-SHA256.
///
/// The text form is `pbkdf2-sha256$ROUNDS$SALT$HASH` with base64 salt and hash, so the rounds
/// can be raised later without breaking stored hashes.
package struct PasswordHash: Sendable, Hashable, CustomStringConvertible {
    package let rounds: Int
    package let salt: [UInt8]
    package let hash: [UInt8]

    /// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
    package static let defaultRounds = 600_000
    static let scheme = "pbkdf2-sha256"

    /// Hashes `password` with a new random 16-byte salt.
    package init(password: String, rounds: Int = PasswordHash.defaultRounds) throws {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.rounds = rounds
        self.salt = salt
        self.hash = try Self.derive(password, salt: salt, rounds: rounds)
    }

    /// Parses the text form; nil when it is not one.
    package init?(parsing text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme, let rounds = Int(parts[1]), rounds >= 210_000,
            let salt = Data(base64Encoded: String(parts[2])), salt.count >= 8,
            let hash = Data(base64Encoded: String(parts[3])), hash.count == 32
        else { return nil }
        self.rounds = rounds
        self.salt = Array(salt)
        self.hash = Array(hash)
    }

    package var description: String {
        "\(Self.scheme)$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// True when `password` is the one hashed; compared in constant time.
    package func matches(_ password: String) -> Bool {
        guard let derived = try? Self.derive(password, salt: salt, rounds: rounds) else { return false }
        return APIKey.constantTimeEquals(derived, hash)
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, rounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}
