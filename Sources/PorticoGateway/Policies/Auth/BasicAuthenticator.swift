import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix
import PorticoConfig
import Synchronization

/// `type: basic`: a consumer's name and password, checked against its PBKDF2 hash.
///
/// PBKDF2 is slow on purpose (hundreds of milliseconds), so it runs on the blocking thread pool,
/// and a successful check is remembered as a keyed digest of the name and password until the
/// consumer's password hash changes.
final class BasicAuthenticator: Authenticator {
    let name: String
    let realm: String
    /// Name → keyed digest of the last password that matched, and the hash it matched.
    private let verified = Mutex<[String: (digest: [UInt8], hash: PasswordHash)]>([:])
    private let cacheKey = SymmetricKey(size: .bits256)

    init(name: String, method: BasicMethod) {
        self.name = name
        self.realm = method.realm
    }

    var challenge: String { "Basic realm=\"\(realm)\", charset=\"UTF-8\"" }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        guard let value = request.headers[.authorization], value.count > 6, value.prefix(6).lowercased() == "basic " else {
            return .absent
        }
        guard let decoded = Data(base64Encoded: String(value.dropFirst(6).trimmingCharacters(in: .whitespaces))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return .rejected(reason: "malformed basic credentials") }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard let consumer = consumers.consumer(named: user), let hash = consumer.password else {
            return .rejected(reason: "no such consumer or no password")
        }
        let digest = Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: cacheKey))
        if let cached = verified.withLock({ $0[user] }), cached.hash == hash, APIKey.constantTimeEquals(cached.digest, digest) {
            return .authenticated(consumers.identity(of: user, method: name, credential: "basic:" + user))
        }
        let matches = (try? await NIOThreadPool.singleton.runIfActive { hash.matches(password) }) ?? false
        guard matches else { return .rejected(reason: "wrong password") }
        verified.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll() }
            cache[user] = (digest, hash)
        }
        return .authenticated(consumers.identity(of: user, method: name, credential: "basic:" + user))
    }

    func strip(_ head: inout HTTPRequest) {
        head.headerFields[.authorization] = nil
    }
}
