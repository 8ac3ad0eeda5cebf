import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import PorticoTesting
import Testing

/// HTTPS upstreams with a private CA, a server name, and a client certificate, against real
/// TLS servers with certificates made by `openssl` in the test.
@Suite("HTTPS upstreams")
struct UpstreamTLSTests {
    /// An HTTPS server answering `host=<Host header>`, asking for a client certificate signed by
    /// the test CA when `requireClient`.
    static func withHTTPSServer<T: Sendable>(
        folder: String, requireClient: Bool, _ body: (Int) async throws -> T
    ) async throws -> T {
        let router = Router(context: BasicRequestContext.self)
        router.get("/**") { request, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "host=\(request.head.authority ?? "")")))
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(folder + "/billing.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: folder + "/billing.key", format: .pem)))
        if requireClient {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(folder + "/ca.pem"))
        }
        let port = BoundPort()
        var logger = Logger(label: "test.https")
        logger.logLevel = .critical
        let application = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.set($0.localAddress?.port ?? 0) }, logger: logger)
        return try await ServiceRunner.with([application], logger: logger) { try await body(try await port.wait()) }
    }

    @Test(
        "a private CA and a server name verify the upstream; a wrong name or an unknown CA is refused; a client certificate reaches an upstream that asks for one"
    )
    func privateCA() async throws {
        let certs = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try TLSListenerTests.makeCA(in: certs)
        try TLSListenerTests.makeCertificate("billing", host: "billing.internal", organization: "Billing", in: certs)
        try TLSListenerTests.makeCertificate("gateway", host: "gateway.internal", organization: "Gateway", in: certs)
        let files = try ["ca.pem", "gateway.pem", "gateway.key"].reduce(into: [String: String]()) {
            $0[$1] = try String(contentsOfFile: certs + "/" + $1, encoding: .utf8)
        }
        try await Self.withHTTPSServer(folder: certs, requireClient: false) { open in
            try await Self.withHTTPSServer(folder: certs, requireClient: true) { mutual in
                let yaml = """
                    server: {access-log: false, watch-config: false}
                    upstreams:
                      good: {targets: [{url: "https://127.0.0.1:\(open)"}], tls: {ca: ca.pem, server-name: billing.internal}}
                      wrong-name: {targets: [{url: "https://127.0.0.1:\(open)"}], tls: {ca: ca.pem, server-name: other.internal}}
                      unknown-ca: {targets: [{url: "https://127.0.0.1:\(open)"}], tls: {server-name: billing.internal}}
                      mutual: {targets: [{url: "https://127.0.0.1:\(mutual)"}], tls: {ca: ca.pem, cert: gateway.pem, key: gateway.key, server-name: billing.internal}}
                      no-client-cert: {targets: [{url: "https://127.0.0.1:\(mutual)"}], tls: {ca: ca.pem, server-name: billing.internal}}
                    apis:
                      - {name: good, base-path: /good, upstream: good}
                      - {name: wrong-name, base-path: /wrong-name, upstream: wrong-name}
                      - {name: unknown-ca, base-path: /unknown-ca, upstream: unknown-ca}
                      - {name: mutual, base-path: /mutual, upstream: mutual}
                      - {name: no-client-cert, base-path: /no-client-cert, upstream: no-client-cert}
                    """
                try await GatewayHarness.with(yaml: yaml, files: files) { gateway in
                    try await withClient(baseURL: gateway.baseURL) { client in
                        let good = try await client.send(.GET, "/good/x")
                        #expect(good.status == 200)
                        #expect(good.text == "host=billing.internal:\(open)")
                        #expect(try await client.send(.GET, "/wrong-name/x").status == 502)
                        #expect(try await client.send(.GET, "/unknown-ca/x").status == 502)
                        let mutualAnswer = try await client.send(.GET, "/mutual/x")
                        #expect(mutualAnswer.status == 200)
                        #expect(try await client.send(.GET, "/no-client-cert/x").status == 502)
                    }
                }
            }
        }
    }

    @Test("bad upstream TLS settings are config errors")
    func configErrors() throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try TLSListenerTests.makeCA(in: folder)
        try TLSListenerTests.makeCertificate("a", host: "a.internal", organization: "A", in: folder)
        try TLSListenerTests.makeCertificate("b", host: "b.internal", organization: "B", in: folder)
        let files = try ["ca.pem", "a.pem", "a.key", "b.key"].reduce(into: [String: String]()) {
            $0[$1] = try String(contentsOfFile: folder + "/" + $1, encoding: .utf8)
        }
        func problems(_ upstream: String) throws -> [String] {
            try configDiagnostics("upstreams:\n  u: " + upstream, files: files).map(\.message)
        }
        let cases: [(String, String)] = [
            (#"{targets: [{url: "https://10.0.0.1"}], tls: {ca: a.key}}"#, "holds no PEM certificate"),
            (
                #"{targets: [{url: "https://10.0.0.1"}], tls: {cert: a.pem, key: b.key}}"#,
                "does not belong to the certificate"
            ),
            (#"{targets: [{url: "https://10.0.0.1"}], tls: {cert: a.pem}}"#, "needs both cert and key"),
            (
                #"{targets: [{url: "https://10.0.0.1"}, {url: "https://10.0.0.2"}], tls: {server-name: x.internal}}"#,
                "needs exactly one target"
            ),
            (#"{targets: [{url: "http://10.0.0.1"}], tls: {ca: ca.pem}}"#, "no https:// target"),
            (#"{targets: [{url: "https://10.0.0.1"}], tls: {ca: nowhere.pem}}"#, "cannot read"),
        ]
        for (upstream, message) in cases {
            let found = try problems(upstream)
            #expect(found.contains { $0.contains(message) }, "\(upstream): \(found)")
        }
    }
}
