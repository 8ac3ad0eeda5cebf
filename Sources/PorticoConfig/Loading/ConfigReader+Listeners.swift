import Foundation
import NIOSSL

/// `listeners:`: the data plane's addresses, with TLS and the HTTPS redirect.
extension ConfigLoader.Reader {
    static let listenerKeys: Set<String> = ["listen", "tls", "protocols", "redirect-https", "http2"]
    static let http2Keys: Set<String> = ["max-concurrent-streams", "initial-window-size", "max-header-list-size"]
    static let tlsKeys: Set<String> = ["certificates", "client-ca", "min-version"]

    func readListeners(_ node: ConfigNode, config: inout GatewayConfig, hash: inout ContentHash) -> [ListenerConfig] {
        var listeners: [ListenerConfig] = []
        for (index, item) in (node.sequence(context: "listeners") ?? []).enumerated() {
            let context = "listeners[\(index)]"
            guard let fields = item.fields(allowed: Self.listenerKeys, context: context) else { continue }
            guard let listenNode = fields["listen"], let address = readAddress(listenNode, context: "\(context) listen")
            else {
                if fields["listen"] == nil { item.report("\(context) needs a listen address (host:port)") }
                continue
            }
            var listener = ListenerConfig(listen: address)
            if let value = fields["redirect-https"]?.bool(context: "\(context) redirect-https") {
                listener.redirectHTTPS = value
            }
            if let protocolsNode = fields["protocols"],
                let protocols = protocolsNode.stringList(context: "\(context) protocols")
            {
                listener.protocols = readProtocols(
                    protocols, node: protocolsNode, tls: fields["tls"] != nil, context: context)
            }
            if let http2Node = fields["http2"] {
                listener.http2 = readHTTP2(http2Node, context: "\(context) http2")
                if !listener.servesHTTP2 { http2Node.report("\(context) has http2 settings but does not serve h2") }
            }
            if let tlsNode = fields["tls"] {
                listener.tls = readTLS(tlsNode, context: "\(context) tls", config: &config, hash: &hash)
                if listener.redirectHTTPS {
                    item.report("\(context) has tls and redirect-https; a redirecting listener is the cleartext one")
                }
            }
            if address.port != 0, listeners.contains(where: { $0.listen == address }) {
                listenNode.report("\(context): \(address) is already a listener")
            }
            listeners.append(listener)
        }
        if listeners.contains(where: \.redirectHTTPS), !listeners.contains(where: { $0.tls != nil }) {
            node.report("listeners: redirect-https needs a listener with tls to redirect to")
        }
        return listeners
    }

    /// `http2:` on a listener: its SETTINGS, each in its range.
    func readHTTP2(_ node: ConfigNode, context: String) -> HTTP2ListenerSettings {
        var settings = HTTP2ListenerSettings()
        guard let fields = node.fields(allowed: Self.http2Keys, context: context) else { return settings }
        if let value = fields["max-concurrent-streams"]?.int(
            context: "\(context) max-concurrent-streams", range: HTTP2ListenerSettings.streamRange)
        {
            settings.maxConcurrentStreams = value
        }
        if let value = fields["initial-window-size"]?.int(
            context: "\(context) initial-window-size", range: HTTP2ListenerSettings.windowRange)
        {
            settings.initialWindowSize = value
        }
        if let value = fields["max-header-list-size"]?.int(
            context: "\(context) max-header-list-size", range: HTTP2ListenerSettings.headerListRange)
        {
            settings.maxHeaderListSize = value
        }
        if settings.windowsTogether > HTTP2ListenerSettings.connectionBodyLimit {
            node.report(
                "\(context): max-concurrent-streams × initial-window-size is \(settings.windowsTogether) bytes, "
                    + "over the \(HTTP2ListenerSettings.connectionBodyLimit) one connection may hold unread")
        }
        return settings
    }

    /// `protocols`: `http/1.1` and `h2` (by ALPN over TLS; with prior knowledge, `h2c`, in
    /// cleartext), each once. `h2c` is accepted as `h2`'s name on a cleartext listener.
    private func readProtocols(_ names: [String], node: ConfigNode, tls: Bool, context: String) -> [String] {
        var protocols: [String] = []
        for name in names {
            let known: String?
            switch name {
            case "http/1.1", "h2": known = name
            case "h2c" where !tls: known = "h2"
            default: known = nil
            }
            guard let known else {
                node.report(
                    name == "h2c"
                        ? "\(context) protocols: h2c is HTTP/2 in cleartext; a TLS listener offers h2"
                        : "\(context) protocols: '\(name)' is not a protocol Portico serves (http/1.1, h2)")
                continue
            }
            if protocols.contains(known) {
                node.report("\(context) protocols: \(name) is listed twice")
                continue
            }
            protocols.append(known)
        }
        if names.isEmpty { node.report("\(context) protocols must list http/1.1, h2 or both") }
        return protocols.isEmpty ? ["http/1.1"] : protocols
    }

    private func readTLS(
        _ node: ConfigNode, context: String, config: inout GatewayConfig, hash: inout ContentHash
    ) -> TLSListenerConfig? {
        guard let fields = node.fields(allowed: Self.tlsKeys, context: context) else { return nil }
        var clientCA: (file: String, bytes: [UInt8])?
        if let caNode = fields["client-ca"], let path = caNode.nonEmptyString(context: "\(context) client-ca") {
            guard let ca = readPEMFile(caNode, written: path, context: "\(context) client-ca"),
                pemCertificates(ca.bytes, node: caNode, written: path, context: "\(context) client-ca") != nil
            else { return nil }
            config.sourceFiles.append(ca.file)
            hash.combine(ca.bytes)
            clientCA = ca
        }
        guard let certificatesNode = fields["certificates"] else {
            node.report("\(context) needs certificates: [{cert: FILE, key: FILE}] (PEM files)")
            return nil
        }
        guard let list = certificatesNode.sequence(context: "\(context) certificates") else { return nil }
        guard !list.isEmpty else {
            certificatesNode.report("\(context) certificates must list at least one {cert: FILE, key: FILE}")
            return nil
        }
        var certificates: [TLSCertificateConfig] = []
        for item in list {
            guard
                let certificate = readCertificate(item, context: "\(context) certificate", config: &config, hash: &hash)
            else { continue }
            certificates.append(certificate)
        }
        guard certificates.count == list.count else { return nil }
        var tls = TLSListenerConfig(certificates: certificates)
        (tls.clientCAFile, tls.clientCAPEM) = (clientCA?.file, clientCA?.bytes)
        if let versionNode = fields["min-version"],
            let version = versionNode.choice(TLSVersionSetting.self, context: "\(context) min-version")
        {
            tls.minimumVersion = version
        }
        return tls
    }

    private func readCertificate(
        _ node: ConfigNode, context: String, config: inout GatewayConfig, hash: inout ContentHash
    ) -> TLSCertificateConfig? {
        guard let fields = node.fields(allowed: ["cert", "key", "hosts"], context: context) else { return nil }
        guard let certNode = fields["cert"], let certPath = certNode.nonEmptyString(context: "\(context) cert"),
            let keyNode = fields["key"], let keyPath = keyNode.nonEmptyString(context: "\(context) key")
        else {
            if fields["cert"] == nil || fields["key"] == nil {
                node.report("\(context) needs cert and key (PEM files)")
            }
            return nil
        }
        let hosts = fields["hosts"]?.stringList(context: "\(context) hosts")?.map { $0.lowercased() } ?? []
        for host in hosts
        where host.isEmpty || host.contains(where: { " /:".contains($0) })
            || (host.contains("*") && !host.hasPrefix("*."))
        {
            fields["hosts"]?.report(
                "\(context) hosts: '\(host)' must be a host name (api.example.com) or a wildcard (*.example.com)")
        }
        guard let chain = readPEMFile(certNode, written: certPath, context: "\(context) cert"),
            let key = readPEMFile(keyNode, written: keyPath, context: "\(context) key")
        else { return nil }
        // The files are watched and hashed, so a renewed certificate reloads the config.
        config.sourceFiles += [chain.file, key.file]
        hash.combine(chain.bytes)
        hash.combine(key.bytes)
        guard
            let parsedChain = pemCertificates(
                chain.bytes, node: certNode, written: certPath, context: "\(context) cert"),
            checkKeyPair(
                chain: parsedChain, keyBytes: key.bytes, keyNode: keyNode, certWritten: certPath, keyWritten: keyPath,
                context: context)
        else { return nil }
        if let expiry = Self.notAfter(parsedChain[0]), expiry < Date() {
            certNode.report("\(context) cert: the certificate in \(displayPath(certPath)) expired on \(expiry)")
            return nil
        }
        return TLSCertificateConfig(
            certFile: chain.file, keyFile: key.file, hosts: hosts, chainPEM: chain.bytes, keyPEM: key.bytes)
    }

    /// The certificate's end of validity.
    static func notAfter(_ certificate: NIOSSLCertificate) -> Date? {
        let seconds = certificate.notValidAfter
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
