import Foundation
import Hummingbird
import NIOCore
import PorticoTesting
import Synchronization
import Testing

@Suite("OAuth2 token introspection")
struct IntrospectionTests {
    /// An RFC 7662 endpoint: `good` is active for an hour, `short` until `shortUntil`, `boom` fails,
    /// anything else is inactive.
    final class Endpoint: Sendable {
        let calls = Atomic<Int>(0)
        let shortUntil = Mutex<Int>(0)
        let sawClientCredentials = Atomic<Bool>(false)

        func router() -> Router<BasicRequestContext> {
            let router = Router(context: BasicRequestContext.self)
            router.post("/introspect") { request, _ -> Response in
                self.calls.add(1, ordering: .relaxed)
                if request.headers[.authorization] == "Basic " + Data("portico:s3cret".utf8).base64EncodedString() {
                    self.sawClientCredentials.store(true, ordering: .relaxed)
                }
                let form = String(buffer: try await request.body.collect(upTo: 4096))
                let token = form.split(separator: "&").first { $0.hasPrefix("token=") }?.dropFirst(6) ?? ""
                let now = Int(Date().timeIntervalSince1970)
                let body: String
                switch token {
                case "boom": return Response(status: .internalServerError)
                case "good":
                    body = #"{"active":true,"sub":"svc-1","scope":"read write","exp":\#(now + 3600)}"#
                case "short" where now < self.shortUntil.withLock({ $0 }):
                    body = #"{"active":true,"sub":"svc-2","scope":"read","exp":\#(self.shortUntil.withLock { $0 })}"#
                default: body = #"{"active":false}"#
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return router
        }
    }

    @Test("active tokens pass and are cached until exp; inactive ones are refused; a failing endpoint gives 503")
    func introspection() async throws {
        let endpoint = Endpoint()
        try await withServer(endpoint.router()) { endpointPort in
            try await withUpstream { upstreamPort in
                let yaml = """
                    \(upstreamYAML(port: upstreamPort))
                    auth:
                      opaque:
                        type: introspection
                        url: http://127.0.0.1:\(endpointPort)/introspect
                        client-id: portico
                        client-secret: s3cret
                    apis:
                      - name: api
                        base-path: /api
                        upstream: backend
                        auth: [opaque]
                        scopes: [read]
                    """
                try await GatewayHarness.with(yaml: yaml) { gateway in
                    try await withClient(baseURL: gateway.baseURL) { client in
                        func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer " + token)] }
                        let first = try await client.send(.GET, "/api/echo/x", headers: bearer("good"))
                        #expect(first.status == 200)
                        #expect(try echoedHeaders(first)["x-consumer-name"] == ["svc-1"])
                        #expect(try echoedHeaders(first)["x-authenticated-scopes"] == ["read write"])
                        let sawCredentials = endpoint.sawClientCredentials.load(ordering: .relaxed)
                        #expect(sawCredentials)
                        for _ in 0..<5 {
                            #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("good")).status == 200)
                        }
                        #expect(endpoint.calls.load(ordering: .relaxed) == 1)

                        for _ in 0..<3 {
                            #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("stale")).status == 401)
                        }
                        #expect(endpoint.calls.load(ordering: .relaxed) == 2)

                        #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("boom")).status == 503)

                        // A cache entry ends with the token's exp: then the endpoint is asked again.
                        let shortUntil = Int(Date().timeIntervalSince1970) + 2
                        endpoint.shortUntil.withLock { $0 = shortUntil }
                        #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("short")).status == 200)
                        #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("short")).status == 200)
                        #expect(endpoint.calls.load(ordering: .relaxed) == 4)
                        let left = Double(shortUntil) - Date().timeIntervalSince1970
                        try await Task.sleep(for: .milliseconds(Int(max(0, left) * 1000) + 100))
                        #expect(try await client.send(.GET, "/api/echo/x", headers: bearer("short")).status == 401)
                        #expect(endpoint.calls.load(ordering: .relaxed) == 5)
                    }
                }
            }
        }
    }
}
