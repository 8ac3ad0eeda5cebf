import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import PorticoTesting
import Testing

/// TLS termination on the data plane with real certificates made by `openssl` in the test: SNI
/// picks the certificate, a renewed certificate file is served without a restart, a broken one
/// leaves the old one serving, and a cleartext listener redirects to HTTPS.
@Suite("TLS listeners")
struct TLSListenerTests {
    /// Runs `openssl` with `arguments` in `folder`; throws with its output when it fails.
    @discardableResult
    static func openssl(_ arguments: [String], in folder: String, input: String? = nil) throws -> String {
        let log = NSTemporaryDirectory() + "openssl-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: log) }
        // `env -C` runs openssl in the folder, where its relative file names are.
        let process = try ChildProcess(
            "/usr/bin/env", ["-C", folder, "openssl"] + arguments, outputFile: log, errorFile: log, input: input)
        let status = process.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TestingError("openssl \(arguments.joined(separator: " ")): \(text)") }
        return text
    }

    /// A test CA in `folder` (`ca.pem`, `ca.key`).
    static func makeCA(in folder: String) throws {
        // P-256 keys: made in milliseconds, where RSA keys would load a 2-core machine running the other suites.
        try openssl(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Portico Test CA",
            ], in: folder)
    }

    /// A server certificate for `host` signed by the test CA: `NAME.pem` and `NAME.key`.
    static func makeCertificate(_ name: String, host: String, organization: String, in folder: String) throws {
        try openssl(
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key",
                "-out", "\(name).csr",
                "-subj", "/O=\(organization)/CN=\(host)",
            ], in: folder)
        try "subjectAltName=DNS:\(host)\n".write(toFile: folder + "/\(name).ext", atomically: true, encoding: .utf8)
        try openssl(
            [
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
            ],
            in: folder)
    }

    /// The subject of the certificate the listener on `port` presents for `serverName`.
    static func presentedSubject(port: Int, serverName: String, in folder: String) throws -> String {
        let output = try openssl(
            ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", serverName, "-brief"], in: folder, input: "")
        // `Peer certificate: O = Portal, CN = portal.example.com`, spaces dropped.
        let line = output.split(separator: "\n").first { $0.contains("Peer certificate:") }.map(String.init) ?? output
        return line.replacingOccurrences(of: " ", with: "")
    }

    static let yaml = """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        server: {access-log: false, watch-config: true, watch-interval: 100ms}
        listeners:
          - listen: 127.0.0.1:0
            tls:
              certificates:
                - {cert: api.pem, key: api.key}
                - {cert: portal.pem, key: portal.key, hosts: [portal.example.com]}
              min-version: "1.2"
          - listen: 127.0.0.1:0
            redirect-https: true
        UPSTREAM
        apis:
          - {name: echo, base-path: /echo, upstream: backend}
        """

    /// A gateway on `yaml` with certificates for `api.example.com` (organization `apiOrganization`)
    /// and `portal.example.com` made in a folder of their own, and the test upstream behind it.
    static func withTLSGateway(
        apiOrganization: String, _ body: (String, GatewayHarness.Running) async throws -> Void
    ) async throws {
        let certs = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try makeCA(in: certs)
        try makeCertificate("api", host: "api.example.com", organization: apiOrganization, in: certs)
        try makeCertificate("portal", host: "portal.example.com", organization: "Portal", in: certs)
        var files: [String: String] = [:]
        for name in ["api.pem", "api.key", "portal.pem", "portal.key"] {
            files[name] = try String(contentsOfFile: certs + "/" + name, encoding: .utf8)
        }
        try await withUpstream { upstream in
            try await GatewayHarness.with(
                yaml: yaml.replacingOccurrences(of: "UPSTREAM", with: upstreamYAML(port: upstream)), files: files
            ) { gateway in
                try await body(certs, gateway)
            }
        }
    }

    /// A client that trusts the test CA, presents no certificate, and sends `api.example.com` and
    /// `portal.example.com` to 127.0.0.1.
    static func withTLSClient<T: Sendable>(folder: String, _ body: (HTTPClient) async throws -> T) async throws -> T {
        try await withClientCertificate(nil, folder: folder, body)
    }

    static func get(
        _ client: HTTPClient, _ url: String
    ) async throws -> (status: Int, body: String, headers: [(String, String)]) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.map { ($0.name, $0.value) })
    }

    @Test("SNI picks the certificate, requests are proxied with X-Forwarded-Proto: https, and cleartext redirects")
    func sniAndRedirect() async throws {
        try await Self.withTLSGateway(apiOrganization: "API") { certs, gateway in
            do {
                let tlsPort = gateway.listenerPorts[1]
                #expect(
                    try Self.presentedSubject(port: tlsPort, serverName: "portal.example.com", in: certs).contains(
                        "O=Portal"))
                #expect(
                    try Self.presentedSubject(port: tlsPort, serverName: "api.example.com", in: certs).contains("O=API")
                )
                // A name no certificate lists gets the default.
                #expect(
                    try Self.presentedSubject(port: tlsPort, serverName: "other.example.com", in: certs).contains(
                        "O=API"))

                try await Self.withTLSClient(folder: certs) { client in
                    for host in ["api.example.com", "portal.example.com"] {
                        // Host name verification passes only when the listener chose that host's certificate.
                        let answer = try await Self.get(client, "https://\(host):\(tlsPort)/echo/echo/hello")
                        #expect(answer.status == 200)
                        let echoed = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
                        let headers = (echoed?["headers"] as? [[String]]) ?? []
                        #expect(headers.contains { $0[0].lowercased() == "x-forwarded-proto" && $0[1] == "https" })
                    }
                }
                // The cleartext listener on 0 (`listen`) still serves; the redirecting one sends to HTTPS.
                try await withClient(baseURL: "http://127.0.0.1:\(gateway.listenerPorts[2])") { client in
                    let redirect = try await client.send(
                        .GET, "/echo/a?b=1", headers: [("Host", "api.example.com:8080")])
                    #expect(redirect.status == 308)
                    #expect(redirect.headers["Location"].first == "https://api.example.com:\(tlsPort)/echo/a?b=1")
                }
                try await withClient(baseURL: gateway.baseURL) { client in
                    let plain = try await client.send(.GET, "/echo/echo/plain")
                    #expect(plain.status == 200)
                }
            }
        }
    }

    @Test(
        "a renewed certificate is served within seconds, without a restart; a broken one leaves it serving with the error in /admin/status"
    )
    func renewal() async throws {
        try await Self.withTLSGateway(apiOrganization: "First") { certs, gateway in
            do {
                let tlsPort = gateway.listenerPorts[1]
                #expect(
                    try Self.presentedSubject(port: tlsPort, serverName: "api.example.com", in: certs).contains(
                        "O=First"))
                try await Self.withTLSClient(folder: certs) { client in
                    #expect(
                        try await Self.get(client, "https://api.example.com:\(tlsPort)/echo/echo/before").status == 200)

                    // Renew: a new key and certificate, written as an ACME client would (key first).
                    try Self.makeCertificate("renewed", host: "api.example.com", organization: "Renewed", in: certs)
                    try FileManager.default.copyItem(
                        atPath: certs + "/renewed.key", toPath: gateway.folder + "/api.key.new")
                    try FileManager.default.copyItem(
                        atPath: certs + "/renewed.pem", toPath: gateway.folder + "/api.pem.new")
                    _ = rename(gateway.folder + "/api.key.new", gateway.folder + "/api.key")
                    _ = rename(gateway.folder + "/api.pem.new", gateway.folder + "/api.pem")
                    var renewed = false
                    for _ in 0..<100 where !renewed {
                        try await Task.sleep(for: .milliseconds(100))
                        renewed = try Self.presentedSubject(port: tlsPort, serverName: "api.example.com", in: certs)
                            .contains("O=Renewed")
                    }
                    #expect(renewed)
                    // The client's pooled connection (made before the renewal) and new ones both work.
                    #expect(
                        try await Self.get(client, "https://api.example.com:\(tlsPort)/echo/echo/after").status == 200)

                    // A broken certificate file: the reload fails, the renewed certificate stays.
                    try "not a certificate\n".write(
                        toFile: gateway.folder + "/api.pem", atomically: true, encoding: .utf8)
                    let admin = adminClient(
                        TestClient(client: client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                        port: gateway.adminPort!)
                    var lastError: String?
                    for _ in 0..<100 where lastError == nil {
                        try await Task.sleep(for: .milliseconds(100))
                        let status = try await admin.send(.GET, "/admin/status").json()
                        lastError = status["last_error"] as? String
                    }
                    #expect(
                        lastError?.contains("api.pem holds no PEM certificate") == true, "\(lastError ?? "no error")")
                    #expect(
                        try Self.presentedSubject(port: tlsPort, serverName: "api.example.com", in: certs).contains(
                            "O=Renewed"))
                    #expect(
                        try await Self.get(client, "https://api.example.com:\(tlsPort)/echo/echo/still").status == 200)

                    // A change to a listener itself cannot be applied by a reload: it is refused.
                    try FileManager.default.copyItem(
                        atPath: certs + "/renewed.pem", toPath: gateway.folder + "/api.pem.fixed")
                    _ = rename(gateway.folder + "/api.pem.fixed", gateway.folder + "/api.pem")
                    let config = try String(contentsOfFile: gateway.folder + "/gateway.yaml", encoding: .utf8)
                    try config.replacingOccurrences(of: "min-version: \"1.2\"", with: "min-version: \"1.3\"")
                        .write(toFile: gateway.folder + "/gateway.yaml", atomically: true, encoding: .utf8)
                    var refusal: String?
                    for _ in 0..<100 where refusal == nil {
                        try await Task.sleep(for: .milliseconds(100))
                        let status = try await admin.send(.GET, "/admin/status").json()
                        refusal = (status["last_error"] as? String).flatMap {
                            $0.contains("listeners are fixed at start") ? $0 : nil
                        }
                    }
                    #expect(refusal?.contains("listener 1 changed") == true, "\(refusal ?? "no refusal")")
                }
            }
        }
    }

    /// A client that trusts the test CA and presents `certificate` (`NAME.pem`/`NAME.key` in `folder`).
    static func withClientCertificate<T: Sendable>(
        _ certificate: String?, folder: String, _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(folder + "/ca.pem"))
        if let certificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(folder + "/\(certificate).pem").map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: folder + "/\(certificate).key", format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.dnsOverride = ["api.example.com": "127.0.0.1", "portal.example.com": "127.0.0.1"]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test(
        "mtls maps a client certificate to its consumer, refuses a stranger's and a missing one, and forwards X-Client-Cert-* when asked"
    )
    func mutualTLS() async throws {
        let certs = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try Self.makeCA(in: certs)
        try Self.makeCertificate("api", host: "api.example.com", organization: "API", in: certs)
        try Self.makeCertificate("partner", host: "partner-app", organization: "Partner", in: certs)
        try Self.makeCertificate("nobody", host: "nobody", organization: "Nobody", in: certs)
        // A stranger: a certificate from another CA.
        let other = certs + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Self.makeCA(in: other)
        try Self.makeCertificate("stranger", host: "partner-app", organization: "Stranger", in: other)
        for name in ["stranger.pem", "stranger.key"] {
            try FileManager.default.copyItem(atPath: other + "/" + name, toPath: certs + "/" + name)
        }
        var files: [String: String] = [:]
        for name in ["api.pem", "api.key", "ca.pem"] {
            files[name] = try String(contentsOfFile: certs + "/" + name, encoding: .utf8)
        }
        try await withUpstream { upstream in
            let yaml = """
                listen: 127.0.0.1:0
                server: {access-log: false, watch-config: false}
                listeners:
                  - listen: 127.0.0.1:0
                    tls: {certificates: [{cert: api.pem, key: api.key}], client-ca: ca.pem}
                \(upstreamYAML(port: upstream))
                auth:
                  partners-mtls: {type: mtls, consumer-from: subject-cn, forward-cert: true}
                consumers:
                  - {name: partner-app, groups: [partners]}
                apis:
                  - {name: partners, base-path: /partners, upstream: backend, auth: partners-mtls}
                  - {name: open, base-path: /open, upstream: backend}
                """
            try await GatewayHarness.with(yaml: yaml, files: files) { gateway in
                let base = "https://api.example.com:\(gateway.listenerPorts[1])"
                func headers(_ body: String) throws -> [String: String] {
                    let echoed = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                    return Dictionary(
                        ((echoed?["headers"] as? [[String]]) ?? []).map { ($0[0].lowercased(), $0[1]) },
                        uniquingKeysWith: { a, _ in a })
                }
                try await Self.withClientCertificate("partner", folder: certs) { client in
                    let answer = try await Self.get(client, base + "/partners/echo/x")
                    #expect(answer.status == 200)
                    let seen = try headers(answer.body)
                    #expect(seen["x-consumer-name"] == "partner-app")
                    #expect(seen["x-consumer-groups"] == "partners")
                    #expect(seen["x-client-cert-cn"] == "partner-app")
                    #expect(seen["x-client-cert-subject"]?.contains("O=Partner") == true)
                    #expect(!seen.keys.contains { $0.hasPrefix("portico-client-cert") })
                    // Without auth on the route, nothing of the certificate reaches the upstream.
                    let open = try headers(try await Self.get(client, base + "/open/echo/x").body)
                    #expect(
                        !open.keys.contains { $0.hasPrefix("x-client-cert") || $0.hasPrefix("portico-client-cert") })
                }
                try await Self.withClientCertificate("nobody", folder: certs) { client in
                    let refused = try await Self.get(client, base + "/partners/echo/x")
                    #expect(refused.status == 401)
                }
                try await Self.withClientCertificate(nil, folder: certs) { client in
                    let refused = try await Self.get(client, base + "/partners/echo/x")
                    #expect(refused.status == 401)
                    // A client's own certificate fields are not believed.
                    var request = HTTPClientRequest(url: base + "/partners/echo/x")
                    request.headers.add(name: "Portico-Client-Cert-Subject", value: "CN=partner-app")
                    request.headers.add(name: "Portico-Client-Cert-CN", value: "partner-app")
                    request.headers.add(name: "X-Client-Cert-CN", value: "partner-app")
                    let spoofed = try await client.execute(request, timeout: .seconds(10))
                    #expect(spoofed.status.code == 401)
                    var openRequest = HTTPClientRequest(url: base + "/open/echo/x")
                    openRequest.headers.add(name: "X-Client-Cert-CN", value: "partner-app")
                    let openAnswer = try await client.execute(openRequest, timeout: .seconds(10))
                    let body = String(buffer: try await openAnswer.body.collect(upTo: 1 << 20))
                    #expect(try !headers(body).keys.contains { $0.hasPrefix("x-client-cert") })
                }
                // A certificate from another CA fails the handshake.
                await #expect(throws: (any Error).self) {
                    try await Self.withClientCertificate("stranger", folder: certs) { client in
                        _ = try await Self.get(client, base + "/partners/echo/x")
                    }
                }
            }
        }
    }

    @Test("bad TLS settings are config errors at their line")
    func configErrors() throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.makeCA(in: folder)
        try Self.makeCertificate("a", host: "a.example.com", organization: "A", in: folder)
        try Self.makeCertificate("b", host: "b.example.com", organization: "B", in: folder)
        let files = try ["a.pem", "a.key", "b.key", "ca.pem"].reduce(into: [String: String]()) {
            $0[$1] = try String(contentsOfFile: folder + "/" + $1, encoding: .utf8)
        }
        func problems(_ tls: String) throws -> [String] {
            try configDiagnostics("listeners:\n  - listen: 127.0.0.1:8443\n" + tls, files: files).map {
                "\($0.line): \($0.message)"
            }
        }
        let cases: [(String, String)] = [
            ("    tls: {certificates: [{cert: a.pem, key: b.key}]}", "b.key does not belong to the certificate in"),
            ("    tls: {certificates: [{cert: missing.pem, key: a.key}]}", "missing.pem"),
            ("    tls: {certificates: [{cert: a.key, key: a.key}]}", "a.key holds no PEM certificate"),
            ("    tls: {certificates: [{cert: a.pem, key: a.pem}]}", "a.pem holds no PEM private key"),
            ("    tls: {certificates: [{cert: a.pem, key: a.key}], min-version: \"1.1\"}", "min-version"),
            (
                "    tls: {certificates: [{cert: a.pem, key: a.key}], client-ca: a.key}",
                "a.key holds no PEM certificate"
            ),
            (
                "    tls: {certificates: [{cert: a.pem, key: a.key}]}\n    protocols: [h2c, http/1.1]",
                "h2c is HTTP/2 in cleartext"
            ),
            ("    protocols: [spdy/3]", "'spdy/3' is not a protocol"),
            ("    protocols: [h2, h2c]", "h2c is listed twice"),
            ("    protocols: []", "must list http/1.1, h2 or both"),
            ("    tls: {certificates: []}", "at least one"),
            ("    redirect-https: true", "redirect-https needs a listener with tls"),
            ("    http2: {max-concurrent-streams: 8}", "has http2 settings but does not serve h2"),
            ("    protocols: [h2c]\n    http2: {max-concurrent-streams: 0}", "between 1 and 1000, found 0"),
            (
                "    protocols: [h2c]\n    http2: {initial-window-size: 2147483647}",
                "initial-window-size must be between 1 and 16777216"
            ),
            (
                "    protocols: [h2c]\n    http2: {max-concurrent-streams: 1000, initial-window-size: 1048576}",
                "is 1048576000 bytes, over the 268435456 one connection may hold unread"
            ),
            (
                "    protocols: [h2c]\n    http2: {initial-window-size: .nan}",
                "initial-window-size must be a whole number"
            ),
            (
                "    protocols: [h2c]\n    http2: {max-header-list-size: 99999999999999999999}",
                "max-header-list-size must be a whole number"
            ),
            ("    protocols: [h2c]\n    http2: {max-streams: 8}", "max-streams"),
        ]
        for (tls, message) in cases {
            let found = try problems(tls)
            #expect(found.contains { $0.contains(message) }, "\(tls): \(found)")
        }
        #expect(try problems("    tls: {certificates: [{cert: a.pem, key: a.key, hosts: [a.example.com]}]}") == [])
        #expect(
            try problems("    protocols: [h2c]\n    http2: {max-concurrent-streams: 8, initial-window-size: 1048576}")
                == [])
    }
}
