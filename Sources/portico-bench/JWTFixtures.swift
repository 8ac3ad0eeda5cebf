import CryptoExtras
import Foundation
import JWTKit

/// Fresh RS256 and ES256 key pairs and a long-lived token for each, for bench/auth.sh:
/// `rs256.pem`, `es256.pem` (public keys) and `rs256.token`, `es256.token` in FOLDER.
enum JWTFixtures {
    struct Claims: JWTPayload {
        var sub = "bench-client"
        var exp = Int(Date().timeIntervalSince1970) + 86_400
        var aud = "portico"
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func write(to folder: String) async throws {
        let rsa = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let es = ES256PrivateKey()
        let rsaKeys = JWTKeyCollection()
        await rsaKeys.add(rsa: rsa, digestAlgorithm: .sha256)
        let esKeys = JWTKeyCollection()
        await esKeys.add(ecdsa: es)
        try rsa.publicKey.pemRepresentation.write(toFile: folder + "/rs256.pem", atomically: true, encoding: .utf8)
        try es.publicKey.pemRepresentation.write(toFile: folder + "/es256.pem", atomically: true, encoding: .utf8)
        try await rsaKeys.sign(Claims()).write(toFile: folder + "/rs256.token", atomically: true, encoding: .utf8)
        try await esKeys.sign(Claims()).write(toFile: folder + "/es256.token", atomically: true, encoding: .utf8)
    }
}
