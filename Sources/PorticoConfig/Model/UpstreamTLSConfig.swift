/// How the gateway speaks TLS to an upstream's `https://` targets (`tls:` of an upstream).
package struct UpstreamTLSConfig: Sendable, Hashable {
    /// The CA certificates trusted instead of the system's (PEM), for private CAs.
    package var caFile: String?
    package var caPEM: [UInt8]?
    /// The gateway's own certificate and key, for upstreams that ask for client certificates.
    package var certFile: String?
    package var certPEM: [UInt8]?
    package var keyFile: String?
    package var keyPEM: [UInt8]?
    /// The name sent by SNI and verified in the upstream's certificate, when it is not the
    /// target's host (an address, or an internal alias).
    package var serverName: String?

    package init() {}

    /// The files read, for the watcher.
    package var files: [String] { [caFile, certFile, keyFile].compactMap { $0 } }
}
