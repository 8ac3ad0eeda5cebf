import Foundation
import NIOSSL

/// An upstream's `tls:`: a private CA, a client certificate, the server name.
extension ConfigLoader.Reader {
    func readUpstreamTLS(_ node: ConfigNode, upstream: UpstreamConfig, context: String) -> UpstreamTLSConfig? {
        guard let fields = node.fields(allowed: ["ca", "cert", "key", "server-name"], context: "\(context) tls") else { return nil }
        var tls = UpstreamTLSConfig()
        func read(_ key: String) -> (file: String, bytes: [UInt8])? {
            guard let valueNode = fields[key], let path = valueNode.nonEmptyString(context: "\(context) tls \(key)") else { return nil }
            let file = ConfigLoader.absolute(path, relativeTo: folder)
            guard let data = FileManager.default.contents(atPath: file) else {
                valueNode.report("\(context) tls \(key): cannot read \(displayPath(path))")
                return nil
            }
            return (file, Array(data))
        }
        if let ca = read("ca") {
            if (try? NIOSSLCertificate.fromPEMBytes(ca.bytes))?.isEmpty ?? true {
                fields["ca"]?.report("\(context) tls ca: \(displayPath(ca.file)) holds no PEM certificate")
                return nil
            }
            (tls.caFile, tls.caPEM) = (ca.file, ca.bytes)
        }
        switch (read("cert"), read("key")) {
        case (let cert?, let key?):
            guard let chain = try? NIOSSLCertificate.fromPEMBytes(cert.bytes), !chain.isEmpty else {
                fields["cert"]?.report("\(context) tls cert: \(displayPath(cert.file)) holds no PEM certificate")
                return nil
            }
            guard let privateKey = try? NIOSSLPrivateKey(bytes: key.bytes, format: .pem) else {
                fields["key"]?.report("\(context) tls key: \(displayPath(key.file)) holds no PEM private key")
                return nil
            }
            do {
                _ = try NIOSSLContext(
                    configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
            } catch {
                fields["key"]?.report("\(context) tls: the key in \(displayPath(key.file)) does not belong to the certificate in \(displayPath(cert.file))")
                return nil
            }
            (tls.certFile, tls.certPEM, tls.keyFile, tls.keyPEM) = (cert.file, cert.bytes, key.file, key.bytes)
        case (nil, nil):
            break
        default:
            if (fields["cert"] == nil) != (fields["key"] == nil) { node.report("\(context) tls needs both cert and key for a client certificate") }
            return nil
        }
        if let nameNode = fields["server-name"], let name = nameNode.nonEmptyString(context: "\(context) tls server-name") {
            guard upstream.targets.count == 1, upstream.dns == nil else {
                nameNode.report("\(context) tls server-name needs exactly one target (give each name its own upstream)")
                return nil
            }
            tls.serverName = name.lowercased()
        }
        if !upstream.targets.contains(where: { $0.scheme == "https" }) && upstream.dns?.scheme != "https" {
            node.report("\(context) has tls settings but no https:// target")
        }
        return tls
    }
}
