import Foundation
import JWTKit

/// A public key for checking JWT signatures, read from a PEM block, a certificate or a JWK.
///
/// The config loader reads each key when it loads the file, so a broken key is reported with
/// its line; the gateway turns the parsed keys into jwt-kit verifiers.
package enum JWTPublicKey: Sendable {
    case rsa(Insecure.RSA.PublicKey)
    case es256(ES256PublicKey)
    case es384(ES384PublicKey)
    case eddsa(EdDSA.PublicKey)
    case jwk(JWK)

    /// Reads `text`, trying each kind of key the text can be.
    package init(parsing text: String) throws(JWTKeyProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            do {
                let jwk = try JSONDecoder().decode(JWK.self, from: Data(trimmed.utf8))
                guard Self.algorithms(of: jwk).isEmpty == false else {
                    throw JWTKeyProblem(
                        "the JWK's key type or curve is not one Portico checks (RSA, EC P-256/P-384, OKP Ed25519)")
                }
                self = .jwk(jwk)
                return
            } catch let problem as JWTKeyProblem {
                throw problem
            } catch {
                throw JWTKeyProblem("not a valid JWK: \(error)")
            }
        }
        guard trimmed.hasPrefix("-----BEGIN") else {
            throw JWTKeyProblem("a public key must be a PEM block (-----BEGIN PUBLIC KEY-----) or a JWK object")
        }
        if trimmed.hasPrefix("-----BEGIN CERTIFICATE") {
            if let key = try? Insecure.RSA.PublicKey(certificatePEM: trimmed) { self = .rsa(key); return }
            if let key = try? ES256PublicKey(certificate: trimmed) { self = .es256(key); return }
            if let key = try? ES384PublicKey(certificate: trimmed) { self = .es384(key); return }
            throw JWTKeyProblem("the certificate holds no RSA or EC P-256/P-384 public key")
        }
        if trimmed.contains("PRIVATE KEY") {
            throw JWTKeyProblem("this is a private key; give the gateway the public key only")
        }
        if let key = try? Insecure.RSA.PublicKey(pem: trimmed) { self = .rsa(key); return }
        if let key = try? ES256PublicKey(pem: trimmed) { self = .es256(key); return }
        if let key = try? ES384PublicKey(pem: trimmed) { self = .es384(key); return }
        if let key = try? EdDSA.PublicKey(pem: trimmed) { self = .eddsa(key); return }
        throw JWTKeyProblem("the PEM block is not an RSA, EC P-256/P-384 or Ed25519 public key")
    }

    /// The algorithms this key can check.
    package var algorithms: [String] {
        switch self {
        case .rsa: return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        case .es256: return ["ES256"]
        case .es384: return ["ES384"]
        case .eddsa: return ["EdDSA"]
        case .jwk(let jwk): return Self.algorithms(of: jwk)
        }
    }

    /// The algorithms a JWK can check: its `alg` if it names one, else every one its key type allows.
    package static func algorithms(of jwk: JWK) -> [String] {
        let byType: [String]
        switch jwk.keyType {
        case .rsa: byType = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        case .ecdsa:
            switch jwk.curve {
            case .ecdsa(.p256): byType = ["ES256"]
            case .ecdsa(.p384): byType = ["ES384"]
            default: byType = []
            }
        case .octetKeyPair: byType = jwk.curve == .eddsa(.ed25519) ? ["EdDSA"] : []
        default: byType = []
        }
        if let alg = jwk.algorithm?.rawValue { return byType.contains(alg) ? [alg] : [] }
        return byType
    }
}

/// Why a key could not be read.
package struct JWTKeyProblem: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
