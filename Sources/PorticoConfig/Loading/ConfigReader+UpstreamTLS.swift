import Foundation
import NIOSSL

/// An upstream's `tls:`: a private CA, a client certificate, the server name.
extension ConfigLoader.Reader {
    func readUpstreamTLS(_ node: ConfigNode, upstream: UpstreamConfig, context: String) -> UpstreamTLSConfig? {
        guard let fields = node.fields(allowed: ["ca", "cert", "key", "server-name"], context: "\(context) tls") else {
            return nil
        }
        var tls = UpstreamTLSConfig()
        func read(_ key: String) -> (file: String, bytes: [UInt8])? {
            guard let valueNode = fields[key], let path = valueNode.nonEmptyString(context: "\(context) tls \(key)")
            else { return nil }
            return readPEMFile(valueNode, written: path, context: "\(context) tls \(key)")
        }
        func written(_ key: String) -> String { fields[key]?.node.string ?? key }
        if let ca = read("ca") {
            guard
                pemCertificates(ca.bytes, node: fields["ca"]!, written: written("ca"), context: "\(context) tls ca")
                    != nil
            else { return nil }
            (tls.caFile, tls.caPEM) = (ca.file, ca.bytes)
        }
        switch (read("cert"), read("key")) {
        case (let cert?, let key?):
            guard
                let chain = pemCertificates(
                    cert.bytes, node: fields["cert"]!, written: written("cert"), context: "\(context) tls cert"),
                checkKeyPair(
                    chain: chain, keyBytes: key.bytes, keyNode: fields["key"]!, certWritten: written("cert"),
                    keyWritten: written("key"),
                    context: "\(context) tls")
            else { return nil }
            (tls.certFile, tls.certPEM, tls.keyFile, tls.keyPEM) = (cert.file, cert.bytes, key.file, key.bytes)
        case (nil, nil):
            break
        default:
            if (fields["cert"] == nil) != (fields["key"] == nil) {
                node.report("\(context) tls needs both cert and key for a client certificate")
            }
            return nil
        }
        if let nameNode = fields["server-name"],
            let name = nameNode.nonEmptyString(context: "\(context) tls server-name")
        {
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
