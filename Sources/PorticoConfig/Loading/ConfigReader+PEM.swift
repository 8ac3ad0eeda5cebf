import Foundation
import NIOSSL

/// PEM files named in the config (listener certificates, client CAs, upstream TLS): read, parsed
/// and checked once here, with the problem reported at the key that names the file.
extension ConfigLoader.Reader {
    /// A file's path and bytes, or nil after reporting that it cannot be read.
    func readPEMFile(_ node: ConfigNode, written: String, context: String) -> (file: String, bytes: [UInt8])? {
        let file = ConfigLoader.absolute(written, relativeTo: folder)
        guard let data = FileManager.default.contents(atPath: file) else {
            node.report("\(context): cannot read \(displayPath(written))")
            return nil
        }
        return (file, Array(data))
    }

    /// The certificates a PEM file holds (at least one), or nil after reporting.
    func pemCertificates(_ bytes: [UInt8], node: ConfigNode, written: String, context: String) -> [NIOSSLCertificate]? {
        guard let chain = try? NIOSSLCertificate.fromPEMBytes(bytes), !chain.isEmpty else {
            node.report("\(context): \(displayPath(written)) holds no PEM certificate")
            return nil
        }
        return chain
    }

    /// Checks that `keyBytes` is a PEM private key that belongs to `chain`'s leaf; reports at
    /// `keyNode` and returns false when not.
    func checkKeyPair(
        chain: [NIOSSLCertificate], keyBytes: [UInt8], keyNode: ConfigNode, certWritten: String, keyWritten: String,
        context: String
    ) -> Bool {
        guard let key = try? NIOSSLPrivateKey(bytes: keyBytes, format: .pem) else {
            keyNode.report(
                "\(context) key: \(displayPath(keyWritten)) holds no PEM private key (an encrypted key cannot be read)")
            return false
        }
        // A context checks that the key belongs to the certificate.
        guard
            (try? NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))))
                != nil
        else {
            keyNode.report(
                "\(context): the key in \(displayPath(keyWritten)) does not belong to the certificate in \(displayPath(certWritten))"
            )
            return false
        }
        return true
    }
}
