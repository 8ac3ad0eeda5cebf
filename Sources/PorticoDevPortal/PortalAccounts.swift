import Crypto
internal import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import PorticoConfig
import PorticoGateway
import PorticoStore

/// Developer accounts, sessions, apps and keys for the portal's self-service pages.
///
/// - A session is a random 256-bit cookie (`portico_session`: `HttpOnly`, `SameSite=Strict`,
///   `Path` the portal's, `Secure` when the request came over TLS); the store keeps its SHA-256.
/// - Every state-changing request carries `X-CSRF-Token`: the session's token once signed in;
///   before that (sign-up, sign-in) the token of the `portico_csrf` cookie that `GET …/session`
///   set (double submit). A request whose `Origin` names another host is refused as well.
/// - Passwords are kept as PBKDF2 hashes, derived off the event loop.
struct PortalAccounts: Sendable {
    let store: any DataStore
    let portal: PortalConfig
    let directory: CredentialDirectory
    /// Tries per client address and per email: sign-ups count against the address, wrong
    /// passwords against both; too many in a minute answer 429 before any hashing.
    let failures: AuthFailures

    static let sessionCookie = "portico_session"
    static let csrfCookie = "portico_csrf"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// What a request's cookies say about who is signed in.
    struct Visitor {
        var session: PortalSession?
        /// The digest of the session cookie, to sign out.
        var sessionDigest: [UInt8]?
        /// The anonymous double-submit token, when there is no session.
        var anonymousToken: String?
        var secure: Bool
    }

    func visitor(of request: Request) async throws -> Visitor {
        // X-Forwarded-Proto reaches here only from a trusted proxy: `RequestGuard` removes anyone else's.
        var visitor = Visitor(
            secure: request.head.scheme == "https"
                || request.headers[values: HTTPField.Name("X-Forwarded-Proto")!].first == "https")
        if let token = RequestCookies.value(named: Self.sessionCookie, in: request.headers), !token.isEmpty {
            let digest = Self.digest(token)
            visitor.sessionDigest = digest
            visitor.session = try await store.session(digest: digest)
        }
        visitor.anonymousToken = RequestCookies.value(named: Self.csrfCookie, in: request.headers)
        return visitor
    }

    /// The identity the usage pages answer for: the signed-in developer's consumer.
    func identity(of visitor: Visitor, consumers: ConsumerLookup) -> Identity? {
        guard let account = visitor.session?.account else { return nil }
        return consumers.identity(of: account.consumer, method: "portal-session")
    }

    // MARK: Requests

    /// Who is signed in; without a session, the anonymous CSRF token (kept when the visitor has a
    /// well-formed one, else new) and the cookie that carries it.
    func session(visitor: Visitor) -> (session: Components.Schemas.Session, cookie: String?) {
        let signup = Components.Schemas.SignUpMode(portal.signup)
        if let session = visitor.session {
            return (
                .init(
                    signup: signup, signedIn: true, csrf: session.csrf, email: session.account.email,
                    consumer: session.account.consumer, expires: session.expires), nil
            )
        }
        let token = visitor.anonymousToken.flatMap { $0.count == 43 ? $0 : nil } ?? Self.randomToken()
        return (
            .init(signup: signup, signedIn: false, csrf: token),
            cookie(Self.csrfCookie, token, visitor: visitor, maxAge: nil)
        )
    }

    /// Refuses a state-changing request without the right CSRF token or from another origin.
    func checkCSRF(_ request: Request, visitor: Visitor) throws {
        if let origin = request.headers[.origin], origin != "null" {
            let host = request.head.authority ?? ""
            let originHost =
                origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            guard originHost == host else {
                throw GatewayError.denied("Requests to the portal must come from the portal's own pages.")
            }
        }
        let sent = request.headers[Self.csrfHeader] ?? ""
        let expected = visitor.session?.csrf ?? visitor.anonymousToken ?? ""
        guard !expected.isEmpty, APIKey.constantTimeEquals(Array(sent.utf8), Array(expected.utf8)) else {
            throw GatewayError.denied("The form's CSRF token is missing or stale; reload the page and try again.")
        }
    }

    /// Creates an account, and answers the same whether the email was new or already had one,
    /// so that sign-up cannot be used to learn who has an account: 202, no session, after one
    /// password derivation either way. The page then signs in with the same email and password.
    func signUp(
        email rawEmail: String, password: String, address: String?
    ) async throws
        -> Components.Schemas.SignUpAccepted
    {
        guard portal.signup != .closed else {
            throw GatewayError.denied("Sign-up is closed on this portal; ask its operator for an account.")
        }
        if let wait = failures.retryAfter(address: address) {
            throw GatewayError.tooManyRequests(retryAfter: wait, headers: [])
        }
        failures.recordFailure(address: address)
        let email = try Self.email(rawEmail)
        guard password.count >= 8 else { throw GatewayError.badRequest("A password must be at least 8 characters.") }
        guard password.count <= 1024 else {
            throw GatewayError.badRequest("A password may be at most 1024 characters.")
        }
        let hash = try await PasswordWork.shared.run { try PasswordHash(password: password).description }
        do {
            _ = try await store.createAccount(email: email, passwordHash: hash, plan: portal.plan)
            _ = try? await directory.refresh()
        } catch PortalStoreError.accountExists {
            // The existing account is left as it is; the answer below does not say so.
        }
        return .init(status: .accepted, detail: "Sign in with this email and password to continue.")
    }

    func signIn(
        email rawEmail: String, password: String, visitor: Visitor, address: String?
    ) async throws -> (session: Components.Schemas.Session, cookie: String) {
        let email = try Self.email(rawEmail)
        if let wait = failures.retryAfter(address: address, consumer: ConsumerConfig.portalNamespace + email) {
            throw GatewayError.tooManyRequests(retryAfter: wait, headers: [])
        }
        let account = try await store.account(email: email)
        // A missing account costs the same derivation as a wrong password, so timing tells nothing.
        let stored = account?.passwordHash ?? Self.decoyHash
        let matches = try await PasswordWork.shared.run { PasswordHash(parsing: stored)?.matches(password) ?? false }
        guard let account, matches else {
            failures.recordFailure(address: address, consumer: ConsumerConfig.portalNamespace + email)
            throw GatewayError.denied("The email or the password is wrong.")
        }
        return try await startSession(account, visitor: visitor)
    }

    /// Ends the session; the cookie that expires it.
    func signOut(visitor: Visitor) async throws -> String {
        if let digest = visitor.sessionDigest { try await store.deleteSession(digest: digest) }
        return cookie(Self.sessionCookie, "", visitor: visitor, maxAge: 0, httpOnly: true)
    }

    private func startSession(
        _ account: PortalAccount, visitor: Visitor
    ) async throws -> (session: Components.Schemas.Session, cookie: String) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        let expires = Date().addingTimeInterval(portal.sessionLifetime.seconds)
        try await store.createSession(digest: Self.digest(token), account: account.id, csrf: csrf, expires: expires)
        let session = PortalSession(account: account, csrf: csrf, expires: expires)
        var next = visitor
        next.session = session
        let cookie = cookie(
            Self.sessionCookie, token, visitor: visitor, maxAge: Int(portal.sessionLifetime.seconds), httpOnly: true)
        return (self.session(visitor: next).session, cookie)
    }

    func apps(of session: PortalSession) async throws -> [Components.Schemas.App] {
        var apps: [Components.Schemas.App] = []
        for app in try await store.apps(account: session.account.id, status: nil) {
            apps.append(Self.app(app, keys: try await store.appKeys(app: app.id, account: session.account.id)))
        }
        return apps
    }

    func createApp(
        name given: String, description: String, session: PortalSession
    ) async throws
        -> Components.Schemas.App
    {
        let name = given.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 80 else {
            throw GatewayError.badRequest("An app needs a name of 1 to 80 characters.")
        }
        guard description.count <= 1000 else {
            throw GatewayError.badRequest("A description may be at most 1000 characters.")
        }
        do {
            let app = try await store.createApp(
                account: session.account.id, name: name, description: description, active: portal.signup != .approval)
            return Self.app(app, keys: [])
        } catch PortalStoreError.appExists {
            throw GatewayError.conflict("You already have an app called '\(name)'.")
        }
    }

    func createKey(app: Int64, session: PortalSession) async throws -> Components.Schemas.CreatedKey {
        let created = try await mapped { try await store.createAppKey(app: app, account: session.account.id) }
        _ = try? await directory.refresh()
        return Self.created(created)
    }

    func rotateKey(
        _ key: Int64, app: Int64, grace graceText: String, session: PortalSession
    ) async throws
        -> Components.Schemas.CreatedKey
    {
        guard let grace = ConfigDuration(parsing: graceText), grace.milliseconds <= 7 * 86_400_000 else {
            throw GatewayError.badRequest("grace must be a duration up to 7d, like 1h or 0s.")
        }
        let created = try await mapped {
            try await store.rotateAppKey(key, app: app, account: session.account.id, grace: grace.seconds)
        }
        _ = try? await directory.refresh()
        return Self.created(created)
    }

    func revokeKey(_ key: Int64, app: Int64, session: PortalSession) async throws {
        try await mapped { try await store.revokeAppKey(key, app: app, account: session.account.id) }
        _ = try? await directory.refresh()
    }

    /// Store errors as the problems a developer sees.
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch PortalStoreError.noSuchApp {
            throw GatewayError.notFound("You have no such app.")
        } catch PortalStoreError.appNotActive(let status) {
            throw GatewayError.conflict(
                status == .pending
                    ? "This app waits for an operator's approval; keys can be issued once it is approved."
                    : "This app is \(status.rawValue); it cannot have keys.")
        } catch ConsumerStoreError.noSuchKey {
            throw GatewayError.notFound("This app has no such active key.")
        }
    }

    // MARK: Answers

    /// An app as the portal lists it, with its keys (never the keys themselves).
    static func app(_ app: PortalApp, keys: [StoredKey], now: Date = Date()) -> Components.Schemas.App {
        .init(
            id: Int(app.id), name: app.name, description: app.description,
            status: .init(rawValue: app.status.rawValue) ?? .pending, owner: app.owner, consumer: app.consumer,
            created: app.created, decided: app.decided, keys: keys.map { key($0, now: now) })
    }

    /// A key as listed: everything but the key itself.
    static func key(_ key: StoredKey, now: Date = Date()) -> Components.Schemas.Key {
        .init(
            id: Int(key.id), prefix: key.prefix, status: .init(rawValue: key.status(at: now)) ?? .active,
            created: key.created, expires: key.expires.map(CallRecord.timestamp),
            revoked: key.revoked.map(CallRecord.timestamp), lastUsed: key.lastUsed.map(CallRecord.timestamp),
            replacedBy: key.replacedBy.map { Int($0) })
    }

    /// A new key: as listed, with the key itself, shown this once.
    static func created(_ created: CreatedKey) -> Components.Schemas.CreatedKey {
        .init(value1: key(created.record), value2: .init(key: created.key))
    }

    // MARK: Helpers

    /// The email as accounts are kept: trimmed and lowercased, and one Portico accepts.
    static func email(_ rawEmail: String) throws -> String {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        guard isEmail(email) else {
            throw GatewayError.badRequest("'\(rawEmail)' is not an email address Portico accepts.")
        }
        return email
    }

    /// `local@domain.tld` with the characters a consumer name may hold.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."),
            text.utf8.count <= 128
        else { return false }
        return ConsumerConfig.isValidName(text)
    }

    func cookie(_ name: String, _ value: String, visitor: Visitor, maxAge: Int?, httpOnly: Bool = true) -> String {
        var text = "\(name)=\(value); Path=\(portal.path); SameSite=Strict"
        if httpOnly { text += "; HttpOnly" }
        if visitor.secure { text += "; Secure" }
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        return text
    }

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// A hash no password matches, checked when an email has no account.
    static let decoyHash = (try? PasswordHash(password: randomToken()).description) ?? ""
}
