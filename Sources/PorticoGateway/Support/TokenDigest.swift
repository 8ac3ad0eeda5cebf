import Crypto
import Foundation

/// The SHA-256 of a token, as the key the auth caches keep it under: 32 bytes whatever the
/// token's length, hashed in place without copying the token.
enum TokenDigest {
    static func of<Text: StringProtocol>(_ token: Text) -> SHA256Digest {
        if let digest = token.utf8.withContiguousStorageIfAvailable({ SHA256.hash(data: UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return SHA256.hash(data: Array(token.utf8))
    }
}
