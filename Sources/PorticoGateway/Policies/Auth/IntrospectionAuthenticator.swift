import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import Synchronization

/// `type: introspection`: an opaque bearer token checked at an RFC 7662 endpoint.
///
/// Answers are cached: an active token until its `exp` (and at most `cache-ttl`), an inactive
/// one for `negative-cache-ttl`, so the endpoint sees a token about once, not once per request.
final class IntrospectionAuthenticator: Authenticator {
    let name: String
    private let settings: IntrospectionMethod
    private let cache: IntrospectionCache
    private let logger: Logger

    init(name: String, method: IntrospectionMethod, cache: IntrospectionCache, logger: Logger) {
        self.name = name
        self.settings = method
        self.cache = cache
        self.logger = logger
    }

    var challenge: String { "Bearer realm=\"portico\"" }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        guard let token = bearerToken(request).map(String.init) else { return .absent }
        let now = Date()
        if let entry = cache.entry(for: token, now: now) { return entry.outcome }
        let answer: [String: Any]
        do {
            answer = try await introspect(token)
        } catch {
            logger.warning("token introspection failed", metadata: ["auth.method": "\(name)", "error": "\(error)"])
            return .unavailable(reason: "introspection endpoint failed")
        }
        guard answer["active"] as? Bool == true else {
            cache.store(
                .rejected(reason: "token not active"), for: token,
                until: now.addingTimeInterval(settings.negativeCacheTTL.seconds))
            return .rejected(reason: "token not active")
        }
        let expires = (answer["exp"] as? NSNumber).flatMap {
            $0.doubleValue.isFinite ? Date(timeIntervalSince1970: $0.doubleValue) : nil
        }
        if let expires, expires <= now { return .rejected(reason: "token expired") }
        let consumer: String
        switch answer[settings.consumerClaim] {
        case let text as String where !text.isEmpty: consumer = text
        case let number as NSNumber: consumer = number.stringValue
        default: return .rejected(reason: "no \(settings.consumerClaim) in the introspection answer")
        }
        // A token never speaks for a portal account: those are reached with the portal's own keys.
        if ConsumerConfig.isPortalName(consumer) { return .rejected(reason: "claim names a portal consumer") }
        let scopes = JWTAuthenticator.strings(answer["scope"], separatedBy: " ")
        var identity = consumers.identity(
            of: consumer, method: name, scopes: Set(scopes), credential: "token:\(name):\(consumer)")
        identity.claims = Identity.scalarClaims(answer)
        let outcome = AuthOutcome.authenticated(identity)
        let limit = now.addingTimeInterval(settings.cacheTTL.seconds)
        cache.store(outcome, for: token, until: expires.map { min($0, limit) } ?? limit)
        return outcome
    }

    private func introspect(_ token: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let id = settings.clientID {
            let credentials = Self.formEncode(id) + ":" + Self.formEncode(settings.clientSecret ?? "")
            request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(string: "token=\(Self.formEncode(token))&token_type_hint=access_token"))
        let response = try await HTTPClient.shared.execute(
            request, timeout: .milliseconds(Int64(settings.timeout.milliseconds)))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw IntrospectionError.status(Int(response.status.code)) }
        guard let answer = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw IntrospectionError.notAnObject
        }
        return answer
    }

    enum IntrospectionError: Error {
        case status(Int)
        case notAnObject
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    func strip(_ head: inout HTTPRequest) {
        head.headerFields[.authorization] = nil
    }
}

/// Introspection answers by token; kept across reloads so a reload does not flood the endpoint.
final class IntrospectionCache: Sendable {
    struct Entry: Sendable {
        let outcome: AuthOutcome
        let until: Date
    }

    /// By the SHA-256 of the token, so a long token costs no more; least recently used out first.
    private let entries = Mutex(LRUTable<SHA256Digest, Entry>(capacity: IntrospectionCache.limit))
    static let limit = 50_000

    /// Answers held now.
    var count: Int { entries.withLock { $0.count } }

    func entry(for token: String, now: Date) -> Entry? {
        let key = TokenDigest.of(token)
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.until <= now {
                entries[key] = nil
                return nil
            }
            return entry
        }
    }

    func store(_ outcome: AuthOutcome, for token: String, until: Date) {
        let key = TokenDigest.of(token)
        entries.withLock { $0[key] = Entry(outcome: outcome, until: until) }
    }
}
