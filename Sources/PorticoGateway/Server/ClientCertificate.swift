import HTTPTypes
import NIOSSL
import SwiftASN1
import X509

/// What a TLS listener with `client-ca` learnt of a connection's verified client certificate,
/// handed to the `mtls` auth method as request fields that only the gateway sets
/// (`Portico-Client-Cert-*`: any a client sends are removed first).
struct ClientCertificate: Sendable, Equatable {
    /// The subject as RFC 4514 text (`CN=partner-app,O=Partner`).
    var subject: String
    var commonName: String?
    var dnsNames: [String] = []
    var emails: [String] = []
    var uris: [String] = []

    static let subjectField = HTTPField.Name("Portico-Client-Cert-Subject")!
    static let commonNameField = HTTPField.Name("Portico-Client-Cert-CN")!
    static let dnsField = HTTPField.Name("Portico-Client-Cert-DNS")!
    static let emailField = HTTPField.Name("Portico-Client-Cert-Email")!
    static let uriField = HTTPField.Name("Portico-Client-Cert-URI")!

    /// The certificate's names; nil when it cannot be parsed (NIOSSL verified it, so that is rare).
    init?(_ certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
            return nil
        }
        subject = parsed.subject.description
        for name in parsed.subject {
            for attribute in name where attribute.type == ASN1ObjectIdentifier.RDNAttributeType.commonName {
                commonName = Self.text(attribute.value.description)
            }
        }
        if let names = try? parsed.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let value): dnsNames.append(value)
                case .rfc822Name(let value): emails.append(value)
                case .uniformResourceIdentifier(let value): uris.append(value)
                default: break
                }
            }
        }
    }

    /// A value as a header can carry it: control characters dropped.
    static func text(_ value: String) -> String {
        var output = ""
        TemplateRenderer.append(value, for: .header, to: &output)
        return output
    }

    /// Whether `field` is one of the listener's own (in any case; `_` spellings are the request
    /// guard's to drop).
    static func isOwnField(_ field: HTTPField) -> Bool {
        field.name.canonicalName.hasPrefix("portico-client-cert-")
    }

    /// Replaces whatever `Portico-Client-Cert-*` fields the client sent with this certificate's.
    static func apply(_ certificate: ClientCertificate?, to fields: inout HTTPFields) {
        if fields.contains(where: isOwnField) { fields = HTTPFields(fields.filter { !isOwnField($0) }) }
        guard let certificate else { return }
        fields[subjectField] = text(certificate.subject)
        if let commonName = certificate.commonName { fields[commonNameField] = commonName }
        // One field per name: a name may hold a comma, so a list joined with commas could be
        // split into a name the certificate does not hold.
        for name in certificate.dnsNames { fields.append(HTTPField(name: dnsField, value: text(name))) }
        for name in certificate.emails { fields.append(HTTPField(name: emailField, value: text(name))) }
        for name in certificate.uris { fields.append(HTTPField(name: uriField, value: text(name))) }
    }
}
