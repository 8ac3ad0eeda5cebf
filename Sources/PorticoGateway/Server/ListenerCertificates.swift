import NIOCore
import NIOSSL
import PorticoConfig

/// One TLS listener's certificates as one snapshot holds them: parsed once per config, and
/// chosen per handshake by the name the client asked for (SNI). The listener's context asks the
/// current snapshot at every handshake, so a renewed certificate (a reload) is served to the next
/// connection without a restart, and connections already open keep theirs.
final class ListenerCertificates: Sendable {
    struct Entry: Sendable {
        /// Exact names, and wildcards as their suffix (`.example.com` for `*.example.com`).
        let exact: Set<String>
        let suffixes: [String]
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKeySource
    }

    let entries: [Entry]
    /// The certificate for clients that name no host, or one no certificate lists.
    let fallback: Entry
    let settings: TLSListenerConfig

    /// Nil when a PEM file no longer parses (the loader checked them, so only a race with an
    /// edit gets here).
    init?(config: TLSListenerConfig) {
        var entries: [Entry] = []
        for certificate in config.certificates {
            guard let chain = try? NIOSSLCertificate.fromPEMBytes(certificate.chainPEM), !chain.isEmpty,
                let key = try? NIOSSLPrivateKey(bytes: certificate.keyPEM, format: .pem)
            else { return nil }
            entries.append(
                Entry(
                    exact: Set(certificate.hosts.filter { !$0.hasPrefix("*.") }),
                    suffixes: certificate.hosts.filter { $0.hasPrefix("*.") }.map { String($0.dropFirst()) },
                    chain: chain.map { .certificate($0) }, key: .privateKey(key)))
        }
        guard let first = entries.first else { return nil }
        self.entries = entries
        self.fallback = entries.first { $0.exact.isEmpty && $0.suffixes.isEmpty } ?? first
        self.settings = config
    }

    /// The certificate for `serverName`: an exact name first, then the longest wildcard (which
    /// covers one label: `*.example.com` is `a.example.com`, not `a.b.example.com`), else the default.
    func entry(for serverName: String?) -> Entry {
        guard let name = serverName?.lowercased(), !name.isEmpty else { return fallback }
        if let exact = entries.first(where: { $0.exact.contains(name) }) { return exact }
        var best: (entry: Entry, length: Int)?
        for entry in entries {
            for suffix in entry.suffixes where name.hasSuffix(suffix) {
                let label = name.dropLast(suffix.count)
                if !label.isEmpty, !label.contains("."), suffix.count > (best?.length ?? 0) {
                    best = (entry, suffix.count)
                }
            }
        }
        return best?.entry ?? fallback
    }

    func override(for serverName: String?) -> NIOSSLContextConfigurationOverride {
        let chosen = entry(for: serverName)
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chosen.chain
        override.privateKey = chosen.key
        return override
    }

    /// The listener's context: this snapshot's default certificate, the listener's protocol
    /// settings, and a callback that picks each handshake's certificate from whatever snapshot
    /// is current then.
    func serverContext(
        protocols: [String], current: @escaping @Sendable () -> ListenerCertificates?
    ) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: fallback.chain, privateKey: fallback.key)
        configuration.minimumTLSVersion = settings.minimumVersion == .v1_3 ? .tlsv13 : .tlsv12
        configuration.applicationProtocols = protocols
        if let ca = settings.clientCAPEM, let roots = try? NIOSSLCertificate.fromPEMBytes(ca), !roots.isEmpty {
            // Ask every client for a certificate, verify one that is presented, accept clients
            // without one (routes that need one refuse them with the mtls method's 401).
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .certificates(roots)
        }
        configuration.sslContextCallback = { values, promise in
            promise.succeed(current()?.override(for: values.serverHostname) ?? .noChanges)
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
