import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix
import PorticoConfig
import Synchronization

/// `type: basic`: a consumer's name and password, checked against its PBKDF2 hash.
///
/// PBKDF2 is slow on purpose (hundreds of milliseconds), so it runs on `PasswordWork`'s bounded
/// pool, and a successful check is remembered as a keyed digest of the name and password until
/// the consumer's password hash changes (at most `maximumRemembered` names, least recently used
/// first out). An unknown name costs the same derivation as a wrong password, so timing tells no
/// names; a name with too many recent failures is refused before any hashing (`AuthFailures`).
final class BasicAuthenticator: Authenticator {
    let name: String
    let realm: String
    /// Name → keyed digest of the last password that matched, and the hash it matched.
    private let verified = Mutex<LRUTable<String, (digest: [UInt8], hash: PasswordHash)>>(LRUTable(capacity: 10_000))
    private let cacheKey = SymmetricKey(size: .bits256)
    let failures: AuthFailures

    init(name: String, method: BasicMethod, failures: AuthFailures) {
        self.name = name
        self.realm = method.realm
        self.failures = failures
    }

    /// Derived for names that have no password, so that they cost what a known name costs.
    static let decoy = try! PasswordHash(password: "portico-decoy-password")

    var guessable: Bool { true }

    var challenge: String { "Basic realm=\"\(realm)\", charset=\"UTF-8\"" }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        guard let value = request.headers[.authorization], value.count > 6, value.prefix(6).lowercased() == "basic "
        else {
            return .absent
        }
        guard let decoded = Data(base64Encoded: String(value.dropFirst(6).trimmingCharacters(in: .whitespaces))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return .rejected(reason: "malformed basic credentials") }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard user.utf8.count <= ConsumerConfig.maximumNameBytes, password.utf8.count <= 1024 else {
            return .rejected(reason: "basic credentials too long")
        }
        if let wait = failures.retryAfter(address: nil, consumer: user) { return .throttled(retryAfter: wait) }
        let known = consumers.consumer(named: user)
        let hash = known?.password ?? Self.decoy
        let digest = Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: cacheKey))
        if known?.password != nil, let cached = verified.withLock({ $0[user] }), cached.hash == hash,
            APIKey.constantTimeEquals(cached.digest, digest)
        {
            return .authenticated(consumers.identity(of: user, method: name, credential: "basic:" + user))
        }
        let matches: Bool
        do {
            matches = try await PasswordWork.shared.run { hash.matches(password) }
        } catch {
            return .unavailable(reason: "password checks are busy")
        }
        guard matches, known?.password != nil else {
            failures.recordFailure(address: nil, consumer: user)
            return .rejected(reason: known?.password == nil ? "no such consumer or no password" : "wrong password")
        }
        verified.withLock { $0[user] = (digest, hash) }
        return .authenticated(consumers.identity(of: user, method: name, credential: "basic:" + user))
    }

    func strip(_ head: inout HTTPRequest) {
        head.headerFields[.authorization] = nil
    }
}
