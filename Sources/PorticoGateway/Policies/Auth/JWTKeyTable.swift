import Foundation
import JWTKit
import PorticoConfig

/// The keys a JWT method checks signatures with, each bound to one algorithm.
///
/// A token's `alg` only selects among these; it never decides how a key is used. An HS256
/// token presented to a method holding an RSA key therefore finds no HS256 verifier and is
/// refused: algorithm confusion cannot happen.
struct JWTKeyTable: Sendable {
    struct Verifier: Sendable {
        /// The key id from a JWK; nil for keys given without one.
        let kid: String?
        let alg: String
        let algorithm: any JWTAlgorithm
    }

    let verifiers: [Verifier]

    /// The verifiers for a token's `alg` and `kid`. A token without `kid` is tried against every key of its algorithm.
    func candidates(kid: String?, alg: String) -> [Verifier] {
        verifiers.filter { $0.alg == alg && (kid == nil || $0.kid == kid || $0.kid == nil) }
    }

    func knows(kid: String) -> Bool { verifiers.contains { $0.kid == kid } }

    /// Builds verifiers with jwt-kit from a secret, public keys and JWKs.
    static func build(secret: String?, publicKeys: [JWTPublicKey], jwks: [JWK] = []) async throws -> JWTKeyTable {
        var verifiers: [Verifier] = []
        let digests: [String: DigestAlgorithm] = ["256": .sha256, "384": .sha384, "512": .sha512]
        if let secret {
            // An HMAC key shorter than the hash output is refused (RFC 7518 §3.2).
            for bits in ["256", "384", "512"] where secret.utf8.count * 8 >= Int(bits)! {
                let keys = JWTKeyCollection()
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digests[bits]!)
                verifiers.append(Verifier(kid: nil, alg: "HS" + bits, algorithm: try await keys.getKey()))
            }
        }
        for key in publicKeys {
            verifiers += try await Self.verifiers(for: key, kid: nil)
        }
        for jwk in jwks {
            verifiers += try await Self.verifiers(for: .jwk(jwk), kid: jwk.keyIdentifier?.string)
        }
        return JWTKeyTable(verifiers: verifiers)
    }

    private static func verifiers(for key: JWTPublicKey, kid: String?) async throws -> [Verifier] {
        let digests: [String: DigestAlgorithm] = ["256": .sha256, "384": .sha384, "512": .sha512]
        var out: [Verifier] = []
        for alg in key.algorithms {
            let keys = JWTKeyCollection()
            switch key {
            case .rsa(let rsa):
                let digest = digests[String(alg.suffix(3))]!
                if alg.hasPrefix("PS") {
                    await keys.add(pss: rsa, digestAlgorithm: digest)
                } else {
                    await keys.add(rsa: rsa, digestAlgorithm: digest)
                }
                out.append(Verifier(kid: kid, alg: alg, algorithm: try await keys.getKey()))
            case .es256(let ec):
                await keys.add(ecdsa: ec)
                out.append(Verifier(kid: kid, alg: alg, algorithm: try await keys.getKey()))
            case .es384(let ec):
                await keys.add(ecdsa: ec)
                out.append(Verifier(kid: kid, alg: alg, algorithm: try await keys.getKey()))
            case .eddsa(let ed):
                await keys.add(eddsa: ed)
                out.append(Verifier(kid: kid, alg: alg, algorithm: try await keys.getKey()))
            case .jwk(var jwk):
                // jwt-kit files JWKs by kid; one is made up for a JWK that has none.
                let id = JWKIdentifier(string: kid ?? "portico-inline")
                jwk.keyIdentifier = id
                try await keys.add(jwk: jwk)
                out.append(Verifier(kid: kid, alg: alg, algorithm: try await keys.getKey(for: id, alg: alg)))
            }
        }
        return out
    }
}

/// Base64url without padding, as JWTs use it.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
