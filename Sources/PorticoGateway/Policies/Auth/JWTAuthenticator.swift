import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import PorticoConfig
import Synchronization

/// `type: jwt`: a bearer token signed with a secret, public keys or the keys of a JWKS.
///
/// A verified token's identity is cached until the token expires, so a client that sends the
/// same token on every request pays for one signature check, not one per request.
final class JWTAuthenticator: Authenticator {
    let name: String
    private let settings: JWTMethod
    private let allowed: Set<String>
    private let leeway: TimeInterval
    private let staticKeys: Mutex<JWTKeyTable?>
    private let inline: (secret: String?, keys: [JWTPublicKey])
    private let jwks: JWKSSource?
    /// Verified tokens: the identity, when the token expires, and the store's credential
    /// generation the identity was made at (a change to the consumer makes it again).
    /// By the SHA-256 of the token, so an entry costs the same whatever a token's length; least
    /// recently used out first.
    private let verified = Mutex(
        LRUTable<SHA256Digest, (identity: Identity, expires: Date, generation: Int)>(
            capacity: JWTAuthenticator.cacheLimit))
    private let now: @Sendable () -> Date
    static let cacheLimit = 50_000

    init(name: String, method: JWTMethod, jwks: JWKSSource?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.name = name
        self.settings = method
        self.leeway = TimeInterval(method.leeway.milliseconds) / 1000
        self.jwks = jwks
        self.now = now
        let keys = method.publicKeys.compactMap { try? JWTPublicKey(parsing: $0) }
        self.inline = (method.secret, keys)
        self.staticKeys = Mutex(nil)
        var allowed = Set(method.algorithms.isEmpty ? JWTMethod.supportedAlgorithms : method.algorithms)
        // A secret checks HMAC only and public keys never do, whatever `algorithms` says.
        allowed = allowed.filter { method.secret != nil ? $0.hasPrefix("HS") : !$0.hasPrefix("HS") }
        self.allowed = allowed
    }

    var challenge: String { "Bearer realm=\"portico\"" }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        guard let token = bearerToken(request) else { return .absent }
        let time = now()
        let generation = consumers.directory.current.generation
        let digest = TokenDigest.of(token)
        if let cached = verified.withLock({ $0[digest] }), cached.generation == generation {
            guard time.timeIntervalSince(cached.expires) <= leeway else {
                verified.withLock { $0[digest] = nil }
                return .rejected(reason: "token expired")
            }
            return .authenticated(cached.identity)
        }
        switch await verify(token, at: time, consumers: consumers) {
        case .success(let result):
            verified.withLock { $0[digest] = (result.identity, result.expires, generation) }
            return .authenticated(result.identity)
        case .failure(let failure):
            return failure.outcome
        }
    }

    struct Failure: Error {
        let outcome: AuthOutcome
        static func rejected(_ reason: String) -> Failure { Failure(outcome: .rejected(reason: reason)) }
    }

    /// Checks the signature and the claims. The reason of a failure goes to the log only.
    func verify(
        _ token: Substring, at time: Date, consumers: ConsumerLookup
    ) async -> Result<(identity: Identity, expires: Date), Failure> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any]
        else { return .failure(.rejected("malformed token")) }
        guard let alg = header["alg"] as? String, alg.lowercased() != "none", allowed.contains(alg) else {
            return .failure(.rejected("algorithm not accepted"))
        }
        guard header["crit"] == nil else { return .failure(.rejected("critical header extensions are not understood")) }
        let kid = header["kid"] as? String
        guard let signature = Base64URL.decode(parts[2]) else { return .failure(.rejected("malformed signature")) }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))

        guard var table = await keyTable() else {
            return .failure(Failure(outcome: .unavailable(reason: "no JWKS keys could be fetched")))
        }
        if let kid, !table.knows(kid: kid), jwks != nil, let fresh = await jwks?.keysForUnknownKid() {
            table = fresh
        }
        let candidates = table.candidates(kid: kid, alg: alg)
        guard !candidates.isEmpty else { return .failure(.rejected("no key for this kid and algorithm")) }
        guard candidates.contains(where: { (try? $0.algorithm.verify(signature, signs: signingInput)) == true }) else {
            return .failure(.rejected("bad signature"))
        }

        guard let payloadBytes = Base64URL.decode(parts[1]),
            let claims = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any]
        else { return .failure(.rejected("malformed claims")) }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp.isFinite else {
            return .failure(.rejected("no exp claim"))
        }
        let expires = Date(timeIntervalSince1970: exp)
        guard time.timeIntervalSince(expires) <= leeway else { return .failure(.rejected("token expired")) }
        if let nbfValue = claims["nbf"] {
            guard let nbf = (nbfValue as? NSNumber)?.doubleValue, nbf.isFinite else {
                return .failure(.rejected("bad nbf claim"))
            }
            guard Date(timeIntervalSince1970: nbf).timeIntervalSince(time) <= leeway else {
                return .failure(.rejected("token not yet valid"))
            }
        }
        if let issuer = settings.issuer, claims["iss"] as? String != issuer {
            return .failure(.rejected("wrong issuer"))
        }
        if !settings.audiences.isEmpty {
            let audiences = Self.strings(claims["aud"], separatedBy: nil)
            guard audiences.contains(where: settings.audiences.contains) else {
                return .failure(.rejected("wrong audience"))
            }
        }
        let consumer: String
        switch claims[settings.consumerClaim] {
        case let text as String where !text.isEmpty: consumer = text
        case let number as NSNumber: consumer = number.stringValue
        default: return .failure(.rejected("no \(settings.consumerClaim) claim"))
        }
        // A token never speaks for a portal account: those are reached with the portal's own keys.
        if ConsumerConfig.isPortalName(consumer) { return .failure(.rejected("claim names a portal consumer")) }
        let scopes = Self.strings(claims["scope"], separatedBy: " ") + Self.strings(claims["scp"], separatedBy: " ")
        let groups = settings.groupsClaim.map { Self.strings(claims[$0], separatedBy: " ") } ?? []
        var identity = consumers.identity(
            of: consumer, method: name, scopes: Set(scopes), extraGroups: groups, credential: "jwt:\(name):\(consumer)")
        identity.claims = Identity.scalarClaims(claims)
        return .success((identity, expires))
    }

    /// A claim that is a string (split on `separator`) or an array of strings.
    static func strings(_ value: Any?, separatedBy separator: Character?) -> [String] {
        switch value {
        case let text as String:
            return separator.map { text.split(separator: $0).map(String.init) } ?? [text]
        case let list as [Any]:
            return list.compactMap { $0 as? String }
        default:
            return []
        }
    }

    private func keyTable() async -> JWTKeyTable? {
        if let jwks { return await jwks.keys() }
        if let table = staticKeys.withLock({ $0 }) { return table }
        guard let table = try? await JWTKeyTable.build(secret: inline.secret, publicKeys: inline.keys) else {
            return nil
        }
        staticKeys.withLock { $0 = table }
        return table
    }

    func strip(_ head: inout HTTPRequest) {
        head.headerFields[.authorization] = nil
    }
}
