import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPTypes
import PorticoConfig
import PorticoTesting
import Testing

@testable import PorticoGateway

/// gRPC through the gateway, end to end over HTTP/2 with grpc-swift 2's own client and server
/// (h2c both ways): unary, server and bidirectional streams, trailers, the gateway's own
/// refusals as gRPC statuses, and gRPC failures counted by the upstream's breaker.
@Suite("gRPC pass-through")
struct GRPCTests {
    static let token = "test-admin-token-0123456789abcdef"
    static let key = "grpc-key-0123456789abcdef"

    static func yaml(upstream: Int) -> String {
        """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: \(token)}
        server: {access-log: false, watch-config: false}
        listeners:
          - listen: 127.0.0.1:0
            protocols: [h2c]
        upstreams:
          echo: {targets: [{url: "http://127.0.0.1:\(upstream)"}], protocol: h2}
          brittle:
            targets: [{url: "http://127.0.0.1:\(upstream)"}]
            protocol: h2
            circuit-breaker: {failure-rate: 50%, window: 4, min-calls: 2, open-for: 1m}
          gone: {targets: [{url: "http://127.0.0.1:1"}], protocol: h2}
        auth:
          keys: {type: api-key, header: X-API-Key}
        consumers:
          - {name: app, keys: ["\(key)"]}
        apis:
          - name: echo
            base-path: /portico.test.Echo
            strip-base-path: false
            upstream: echo
            auth: keys
            routes:
              - {path: /Unary, methods: [POST]}
              - {path: /Count, methods: [POST]}
              - {path: /Collect, methods: [POST]}
              - {path: /Fail, methods: [POST], rate-limit: {rate: 2/h, burst: 2, by: consumer}}
          - {name: brittle, base-path: /portico.test.Brittle, strip-base-path: false, upstream: brittle}
          - {name: gone, base-path: /portico.test.Gone, strip-base-path: false, upstream: gone}
        """
    }

    static let gone = MethodDescriptor(fullyQualifiedService: "portico.test.Gone", method: "Any", type: .unary)
    static let nope = MethodDescriptor(fullyQualifiedService: "portico.test.Echo", method: "Nope", type: .unary)

    /// The gRPC status a call ended with; nil when it succeeded.
    static func status(_ call: () async throws -> Void) async -> RPCError? {
        do {
            try await call()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(code: .unknown, message: "\(error)")
        }
    }

    @Test("unary, server and bidirectional streams through the gateway; its refusals as gRPC statuses")
    func passThrough() async throws {
        try await withGRPCServer { upstream in
            try await GatewayHarness.with(yaml: Self.yaml(upstream: upstream)) { gateway in
                let keyed: Metadata = ["x-api-key": .string(Self.key)]
                let http = HTTPClient.shared
                let admin = adminClient(
                    TestClient(client: http, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                    port: gateway.adminPort!)
                let before = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])

                try await withGRPCClient(port: gateway.listenerPorts[1]) { client in
                    // Unary: the upstream sees the consumer the key names, not the key.
                    let (reply, metadata) = try await unaryEcho(client, "hello grpc", metadata: keyed)
                    #expect(reply == "hello grpc")
                    #expect(metadata[stringValues: "echo-seen-consumer"].first(where: { _ in true }) == "app")
                    let requestID = try #require(metadata[stringValues: "x-request-id"].first(where: { _ in true }))

                    // Server streaming: the server sends each next message only once the client
                    // got the one before, so all of them arriving proves none was held back.
                    let messages = try await countStream(client, 4, metadata: keyed)
                    #expect(messages.map(\.0) == ["1", "2", "3", "4"])

                    // Bidirectional: each reply comes back before the next message is sent, so
                    // the request body is streamed through, not gathered.
                    #expect(
                        try await collect(client, ["alpha", "beta", "gamma"], metadata: keyed) == [
                            "ALPHA", "BETA", "GAMMA",
                        ])

                    // The upstream's own error status and message reach the client in the trailers.
                    let denied = await Self.status { try await unaryCall(client, EchoService.fail, metadata: keyed) }
                    #expect(denied?.code == .permissionDenied)
                    #expect(denied?.message == "no such luck")

                    // The gateway's own refusals, as gRPC statuses.
                    let anonymous = await Self.status { try await unaryCall(client, EchoService.unary) }
                    #expect(anonymous?.code == .unauthenticated, "\(String(describing: anonymous))")
                    _ = await Self.status { try await unaryCall(client, EchoService.fail, metadata: keyed) }
                    let limited = await Self.status { try await unaryCall(client, EchoService.fail, metadata: keyed) }
                    #expect(limited?.code == .resourceExhausted, "\(String(describing: limited))")
                    let unreachable = await Self.status { try await unaryCall(client, Self.gone) }
                    #expect(unreachable?.code == .unavailable, "\(String(describing: unreachable))")
                    let unknown = await Self.status { try await unaryCall(client, Self.nope, metadata: keyed) }
                    #expect(unknown?.code == .unimplemented, "\(String(describing: unknown))")

                    // UNAVAILABLE from the target counts as a failure: the breaker opens, and
                    // then the gateway answers for it without asking the target.
                    for _ in 0..<2 {
                        let down = await Self.status { try await unaryCall(client, BrittleService.down) }
                        #expect(down?.code == .unavailable)
                        #expect(down?.message == "backend down")
                    }
                    let open = await Self.status { try await unaryCall(client, BrittleService.down) }
                    #expect(open?.code == .unavailable)
                    #expect(open?.message != "backend down", "\(String(describing: open))")

                    // The call record: HTTP/2, the consumer, 200.
                    let record = try #require(
                        try await MirrorTests.call(
                            TestClient(client: http, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                            requestID: requestID))
                    #expect(record["protocol"] as? String == "2")
                    #expect(record["consumer"] as? String == "app")
                    #expect(record["status"] as? Int == 200)
                }
                // Every call but the unrouted one was served on the event-loop path.
                let after = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                #expect((after["event_loop"] ?? 0) - (before["event_loop"] ?? 0) >= 11, "\(before) \(after)")
            }
        }
    }

    @Test("gRPC to an https:// target: a private CA and the server name verified; a wrong name is refused")
    func tlsUpstream() async throws {
        let certs = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: certs) }
        try TLSListenerTests.makeCA(in: certs)
        try TLSListenerTests.makeCertificate("grpc", host: "grpc.internal", organization: "GRPC", in: certs)
        let ca = try String(contentsOfFile: certs + "/ca.pem", encoding: .utf8)
        let security = HTTP2ServerTransport.Posix.TransportSecurity.tls(
            certificateChain: [.file(path: certs + "/grpc.pem", format: .pem)],
            privateKey: .file(path: certs + "/grpc.key", format: .pem))
        try await withGRPCServer(security: security) { upstream in
            let yaml = """
                listen: 127.0.0.1:0
                admin: {listen: 127.0.0.1:0, token: \(Self.token)}
                server: {access-log: false, watch-config: false}
                listeners:
                  - listen: 127.0.0.1:0
                    protocols: [h2c]
                upstreams:
                  good:
                    targets: [{url: "https://127.0.0.1:\(upstream)"}]
                    protocol: h2
                    tls: {ca: ca.pem, server-name: grpc.internal}
                  wrong:
                    targets: [{url: "https://127.0.0.1:\(upstream)"}]
                    protocol: h2
                    tls: {ca: ca.pem, server-name: other.internal}
                apis:
                  - {name: echo, base-path: /portico.test.Echo, strip-base-path: false, upstream: good}
                  - {name: brittle, base-path: /portico.test.Brittle, strip-base-path: false, upstream: wrong}
                """
            try await GatewayHarness.with(yaml: yaml, files: ["ca.pem": ca]) { gateway in
                let admin = adminClient(
                    TestClient(client: HTTPClient.shared, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                    port: gateway.adminPort!)
                let before = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                try await withGRPCClient(port: gateway.listenerPorts[1]) { client in
                    let (reply, _) = try await unaryEcho(client, "over tls")
                    #expect(reply == "over tls")
                    #expect(try await countStream(client, 3).map(\.0) == ["1", "2", "3"])
                    // The target's certificate does not name other.internal: the gateway refuses it.
                    let refused = await Self.status { try await unaryCall(client, BrittleService.down) }
                    #expect(refused?.code == .unavailable, "\(String(describing: refused))")
                    #expect(refused?.message != "backend down", "\(String(describing: refused))")
                }
                let after = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                #expect((after["event_loop"] ?? 0) - (before["event_loop"] ?? 0) == 3, "\(before) \(after)")
            }
        }
    }

    @Test("a policy that must wait (a password hash) waits on the event loop; the call still goes to the h2c target")
    func waitingPolicy() async throws {
        let hash = try PasswordHash(password: "correct horse battery", rounds: 210_000).description
        try await withGRPCServer { upstream in
            let yaml = """
                listen: 127.0.0.1:0
                admin: {listen: 127.0.0.1:0, token: \(Self.token)}
                server: {access-log: false, watch-config: false}
                listeners:
                  - listen: 127.0.0.1:0
                    protocols: [h2c]
                upstreams:
                  echo: {targets: [{url: "http://127.0.0.1:\(upstream)"}], protocol: h2}
                auth:
                  staff: {type: basic}
                consumers:
                  - {name: alice, password-hash: "\(hash)"}
                apis:
                  - {name: echo, base-path: /portico.test.Echo, strip-base-path: false, upstream: echo, auth: staff}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                let admin = adminClient(
                    TestClient(client: HTTPClient.shared, baseURL: "http://127.0.0.1:\(gateway.adminPort!)"),
                    port: gateway.adminPort!)
                let before = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                func basic(_ password: String) -> Metadata {
                    ["authorization": .string("Basic " + Data("alice:\(password)".utf8).base64EncodedString())]
                }
                try await withGRPCClient(port: gateway.listenerPorts[1]) { client in
                    // Basic auth always waits for PBKDF2 (or its cache) off the loop. Before the call
                    // could wait there, it went to the streaming path, whose HTTP/1.1 client no
                    // h2c target answers.
                    let (reply, metadata) = try await unaryEcho(
                        client, "after the hash", metadata: basic("correct horse battery"))
                    #expect(reply == "after the hash")
                    #expect(metadata[stringValues: "echo-seen-consumer"].first(where: { _ in true }) == "alice")
                    #expect(
                        try await countStream(client, 2, metadata: basic("correct horse battery")).map(\.0) == [
                            "1", "2",
                        ])
                    let wrong = await Self.status {
                        try await unaryCall(client, EchoService.unary, metadata: basic("wrong"))
                    }
                    #expect(wrong?.code == .unauthenticated, "\(String(describing: wrong))")
                }
                let after = try #require(try await admin.send(.GET, "/admin/status").json()["paths"] as? [String: Int])
                #expect((after["event_loop"] ?? 0) - (before["event_loop"] ?? 0) == 3, "\(before) \(after)")
                #expect((after["streaming"] ?? 0) == (before["streaming"] ?? 0), "\(before) \(after)")
            }
        }
    }

    @Test("what counts as a gRPC request, and grpc-message's encoding")
    func grpcRequests() {
        func fields(_ type: String) -> HTTPFields { [.contentType: type] }
        for type in ["application/grpc", "Application/GRPC+proto", "application/grpc;charset=utf-8"] {
            #expect(GRPCStatus.isGRPC(fields(type)), "\(type)")
        }
        for type in ["application/grpc-web", "application/grpcx", "application/grp", "text/plain", ""] {
            #expect(!GRPCStatus.isGRPC(fields(type)), "\(type)")
        }
        #expect(!GRPCStatus.isGRPC(HTTPFields()))
        #expect(GRPCStatus.percentEncoded("50% off\nnow é") == "50%25 off%0Anow %C3%A9")
        #expect(GRPCStatus.percentEncoded(String(repeating: "x", count: 1 << 20)).utf8.count == 1024)
        #expect(GRPCStatus.code(in: [GRPCStatus.status: "99999999999999999999"]) == nil)
    }

    @Test("protocol is http/1.1 or h2, and a config error at its line otherwise")
    func protocolKey() throws {
        let bad = Self.yaml(upstream: 9).replacingOccurrences(of: "protocol: h2}", with: "protocol: h3}")
        do {
            _ = try loadConfig(bad)
            Issue.record("protocol: h3 was accepted")
        } catch {
            #expect("\(error)".contains("unknown protocol 'h3'"), "\(error)")
            #expect("\(error)".contains("gateway.yaml:"), "\(error)")
        }
        let config = try loadConfig(Self.yaml(upstream: 9))
        #expect(config.upstreams.first { $0.name == "echo" }?.protocol == .h2)
    }
}
