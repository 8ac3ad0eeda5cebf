import Logging
import PorticoConfig
import Synchronization

/// The auth state that outlives a config snapshot: the store's credentials, the JWKS caches and
/// the introspection caches. A reload builds new authenticators on top of the same caches, so it
/// neither refetches every JWKS nor floods an introspection endpoint.
package final class AuthContext: Sendable {
    package let directory: CredentialDirectory
    private let jwks = Mutex<[String: JWKSSource]>([:])
    private let introspection = Mutex<[String: IntrospectionCache]>([:])
    let logger: Logger
    /// Failed authentications by client address and consumer; kept across reloads.
    let failures = AuthFailures()

    package init(
        directory: CredentialDirectory = CredentialDirectory(store: nil), logger: Logger = Logger(label: "portico.auth")
    ) {
        self.directory = directory
        self.logger = logger
    }

    /// Entries held now by the auth tables every snapshot shares, with their bounds, for `/admin/status`.
    package var tables: [(name: String, entries: Int, maximum: Int)] {
        let introspected = introspection.withLock { $0.values.reduce(0) { $0 + $1.count } }
        let sources = introspection.withLock { $0.count }
        return [
            ("auth_failures", failures.entries, failures.maximumEntries * 2),
            ("introspection_cache", introspected, IntrospectionCache.limit * max(1, sources)),
            ("password_work_queue", PasswordWork.shared.inUse, PasswordWork.shared.maximumWaiting),
        ]
    }

    /// The authenticators of a config, by method name.
    func authenticators(for config: GatewayConfig) -> [String: any Authenticator] {
        var result: [String: any Authenticator] = [:]
        var usedJWKS: Set<String> = []
        var usedIntrospection: Set<String> = []
        for method in config.auth {
            switch method.kind {
            case .apiKey(let settings):
                result[method.name] = APIKeyAuthenticator(name: method.name, method: settings)
            case .basic(let settings):
                result[method.name] = BasicAuthenticator(name: method.name, method: settings, failures: failures)
            case .mtls(let settings):
                result[method.name] = MTLSAuthenticator(name: method.name, method: settings)
            case .jwt(let settings):
                var source: JWKSSource?
                if let url = settings.jwksURL {
                    let key = "\(url) \(settings.jwksRefresh.milliseconds) \(settings.jwksMinRefetch.milliseconds)"
                    usedJWKS.insert(key)
                    source = jwks.withLock { sources in
                        if let existing = sources[key] { return existing }
                        let created = JWKSSource(
                            url: url, refresh: settings.jwksRefresh.duration,
                            minRefetch: settings.jwksMinRefetch.duration, logger: logger)
                        sources[key] = created
                        return created
                    }
                }
                result[method.name] = JWTAuthenticator(name: method.name, method: settings, jwks: source)
            case .introspection(let settings):
                let key = "\(settings.url) \(settings.clientID ?? "")"
                usedIntrospection.insert(key)
                let cache = introspection.withLock { caches in
                    if let existing = caches[key] { return existing }
                    let created = IntrospectionCache()
                    caches[key] = created
                    return created
                }
                result[method.name] = IntrospectionAuthenticator(
                    name: method.name, method: settings, cache: cache, logger: logger)
            }
        }
        // Caches no method uses any more are dropped.
        jwks.withLock { $0 = $0.filter { usedJWKS.contains($0.key) } }
        introspection.withLock { $0 = $0.filter { usedIntrospection.contains($0.key) } }
        return result
    }
}
