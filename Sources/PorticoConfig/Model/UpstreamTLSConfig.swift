/// How the gateway speaks TLS to an upstream's `https://` targets (`tls:` of an upstream).
public struct UpstreamTLSConfig: Sendable, Hashable {
    /// The CA certificates trusted instead of the system's (PEM), for private CAs.
    public var caFile: String?
    public var caPEM: [UInt8]?
    /// The gateway's own certificate and key, for upstreams that ask for client certificates.
    public var certFile: String?
    public var certPEM: [UInt8]?
    public var keyFile: String?
    public var keyPEM: [UInt8]?
    /// The name sent by SNI and verified in the upstream's certificate, when it is not the
    /// target's host (an address, or an internal alias).
    public var serverName: String?

    public init() {}

    /// The files read, for the watcher.
    public var files: [String] { [caFile, certFile, keyFile].compactMap { $0 } }
}
