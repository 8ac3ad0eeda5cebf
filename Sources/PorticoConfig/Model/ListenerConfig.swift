/// One data-plane listener (`listeners:`): an address, optionally TLS with certificates chosen
/// by SNI, or a cleartext listener that only redirects to HTTPS.
package struct ListenerConfig: Sendable, Hashable {
    package var listen: ListenAddress
    package var tls: TLSListenerConfig?
    /// `http/1.1` and `h2`. Over TLS they are the ALPN protocols offered, in order of
    /// preference; in cleartext `h2` is HTTP/2 with prior knowledge (h2c), told from HTTP/1.1 by
    /// the connection's first bytes.
    package var protocols: [String] = ["http/1.1"]
    /// The HTTP/2 settings, for a listener that serves `h2`.
    package var http2 = HTTP2ListenerSettings()

    package var servesHTTP1: Bool { protocols.contains("http/1.1") }
    package var servesHTTP2: Bool { protocols.contains("h2") }
    /// Every request gets 308 to the same host and path over HTTPS.
    package var redirectHTTPS = false

    package init(listen: ListenAddress, tls: TLSListenerConfig? = nil) {
        self.listen = listen
        self.tls = tls
    }
}

/// A listener's TLS settings.
package struct TLSListenerConfig: Sendable, Hashable {
    /// The first certificate without `hosts` is the default; the others are chosen by SNI.
    package var certificates: [TLSCertificateConfig]
    package var minimumVersion: TLSVersionSetting = .v1_2
    /// The CA certificates (PEM) client certificates are verified against; with one, the
    /// listener asks every client for a certificate (and accepts clients without one).
    package var clientCAFile: String?
    package var clientCAPEM: [UInt8]?

    package init(certificates: [TLSCertificateConfig]) {
        self.certificates = certificates
    }
}

/// `min-version`.
package enum TLSVersionSetting: String, Sendable, Hashable, CaseIterable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"
}

/// A certificate chain and its key, read from PEM files when the config is loaded (so a reload
/// reads a renewed pair, and a bad one fails the reload with the old pair still serving).
package struct TLSCertificateConfig: Sendable, Hashable {
    package var certFile: String
    package var keyFile: String
    /// Host names (exact, or `*.example.com`) this certificate is chosen for by SNI; empty for
    /// the default.
    package var hosts: [String]
    /// The files' contents as read.
    package var chainPEM: [UInt8]
    package var keyPEM: [UInt8]

    package init(certFile: String, keyFile: String, hosts: [String], chainPEM: [UInt8], keyPEM: [UInt8]) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.hosts = hosts
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
    }
}
