import HTTPTypes
import Hummingbird
import PorticoConfig

/// The `mtls` method: the client certificate a TLS listener with `client-ca` verified during the
/// handshake names a consumer (by its subject's CN or a SAN), whose groups and plan come from
/// the config or the store. A certificate that names no known consumer is refused; a connection
/// without one has no credential for this method.
struct MTLSAuthenticator: Authenticator {
    let name: String
    let method: MTLSMethod
    let challenge = "Certificate"

    static let forwarded = [
        ("X-Client-Cert-Subject", ClientCertificate.subjectField),
        ("X-Client-Cert-CN", ClientCertificate.commonNameField),
        ("X-Client-Cert-DNS", ClientCertificate.dnsField), ("X-Client-Cert-Email", ClientCertificate.emailField),
        ("X-Client-Cert-URI", ClientCertificate.uriField),
    ].map { (HTTPField.Name($0.0)!, $0.1) }

    init(name: String, method: MTLSMethod) {
        self.name = name
        self.method = method
    }

    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome {
        authenticateNow(request.head, consumers: consumers)!
    }

    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome? {
        guard head.headerFields[ClientCertificate.subjectField] != nil else { return .absent }
        let field: HTTPField.Name =
            switch method.consumerFrom {
            case .subjectCN: ClientCertificate.commonNameField
            case .sanDNS: ClientCertificate.dnsField
            case .sanEmail: ClientCertificate.emailField
            case .sanURI: ClientCertificate.uriField
            }
        // The common name as it is; of the SANs of one kind (one field each), the first that is a
        // known consumer.
        let names = head.headerFields[values: field]
        guard let consumer = names.lazy.compactMap({ consumers.consumer(named: $0) }).first else {
            return .rejected(
                reason:
                    "the client certificate (\(head.headerFields[ClientCertificate.subjectField] ?? "")) names no known consumer"
            )
        }
        return .authenticated(consumers.identity(of: consumer.name, method: name, credential: "cert:\(consumer.name)"))
    }

    /// The gateway's own fields never leave it; `forward-cert: true` sends their values as `X-Client-Cert-*`.
    func strip(_ head: inout HTTPRequest) {
        guard method.forwardCertificate else { return }
        for (outgoing, own) in Self.forwarded {
            for value in head.headerFields[values: own] {
                head.headerFields.append(HTTPField(name: outgoing, value: value))
            }
        }
    }
}
