import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoTesting
import Synchronization
import Testing

/// Shadow traffic to a second upstream: copied after the policies, never waited for, and
/// reported in the real request's call record.
@Suite("Request mirroring")
struct MirrorTests {
    final class Seen: Sendable {
        let requests = Mutex<[(method: String, path: String, body: String, consumer: String?)]>([])
    }

    static func mirrorRouter(_ seen: Seen) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let record: @Sendable (Request) async throws -> Void = { request in
            let body = try await request.body.collect(upTo: 1 << 20)
            seen.requests.withLock {
                $0.append(
                    (
                        request.method.rawValue, request.uri.description, String(buffer: body),
                        request.headers[HTTPField.Name("X-Consumer-Name")!]
                    ))
            }
        }
        router.on("/echo/**", method: .post) { request, _ -> Response in
            try await record(request)
            return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: "mirror")))
        }
        router.get("/echo/**") { request, _ -> Response in
            try await record(request)
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "mirror")))
        }
        router.get("/slow/**") { request, _ -> Response in
            try await Task.sleep(for: .seconds(3))
            try await record(request)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "late")))
        }
        return router
    }

    static func yaml(primary: Int, mirror: Int) -> String {
        """
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        \(upstreamYAML(port: primary))
        \(upstreamYAML(name: "shadow", port: mirror).replacingOccurrences(of: "upstreams:\n", with: ""))
        auth:
          key: {type: api-key}
        consumers:
          - {name: app, keys: [mirror-key-0123456789abcdef]}
        apis:
          - name: shop
            base-path: /shop
            upstream: backend
            auth: key
            mirror: {upstream: shadow, share: 100%}
            request-headers: {set: {X-Mirrored-Policies: "yes"}}
          - name: half
            base-path: /half
            upstream: backend
            mirror: {upstream: shadow, share: 50%}
          - name: none
            base-path: /none
            upstream: backend
            mirror: {upstream: shadow, share: 0%}
        """
    }

    static func call(_ admin: TestClient, requestID: String) async throws -> [String: Any]? {
        for _ in 0..<100 {
            let answer = try await admin.send(
                .GET, "/admin/analytics/calls?since=1h&request_id=\(requestID)",
                headers: [("Authorization", "Bearer test-admin-token-0123456789abcdef")])
            if let found = (try answer.json()["calls"] as? [[String: Any]])?.first { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test(
        "the copy gets the request as the policies left it, the client does not wait for it, and the call record says how it went"
    )
    func mirrors() async throws {
        let seen = Seen()
        try await withServer(Self.mirrorRouter(seen)) { mirrorPort in
            try await withUpstream { primaryPort in
                try await GatewayHarness.with(yaml: Self.yaml(primary: primaryPort, mirror: mirrorPort)) { gateway in
                    try await withClient(baseURL: gateway.baseURL) { client in
                        let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
                        let key = ("X-API-Key", "mirror-key-0123456789abcdef")
                        let posted = try await client.send(
                            .POST, "/shop/echo/orders?x=1", headers: [key, ("X-Request-Id", "mirror-post-1")],
                            body: .bytes(ByteBuffer(string: "order body")))
                        #expect(posted.status == 200)
                        #expect(try posted.json()["body"] as? String == "order body")

                        let started = ContinuousClock.now
                        let slow = try await client.send(
                            .GET, "/shop/slow/1", headers: [key, ("X-Request-Id", "mirror-slow-1")])
                        let waited = ContinuousClock.now - started
                        #expect(slow.status == 200, "the primary answers in 1 ms; the mirror takes 3 s")
                        #expect(waited < .milliseconds(2500), "the client waited \(waited) for a mirror")

                        let record = try #require(try await Self.call(admin, requestID: "mirror-post-1"))
                        #expect((record["mirror"] as? String)?.hasPrefix("201 ") == true, "\(record)")
                        #expect(record["status"] as? Int == 200)
                        let slowRecord = try #require(try await Self.call(admin, requestID: "mirror-slow-1"))
                        #expect((slowRecord["mirror"] as? String)?.hasPrefix("200 ") == true, "\(slowRecord)")

                        let copies = seen.requests.withLock { $0 }
                        let order = try #require(copies.first { $0.method == "POST" })
                        #expect(order.path == "/echo/orders?x=1")
                        #expect(order.body == "order body")
                        #expect(order.consumer == "app")

                        // An unauthenticated request is refused before the mirror: no copy.
                        #expect(try await client.send(.GET, "/shop/echo/nokey").status == 401)
                        for index in 0..<40 { _ = try await client.send(.GET, "/half/echo/h\(index)") }
                        for index in 0..<10 { _ = try await client.send(.GET, "/none/echo/n\(index)") }
                        try await Task.sleep(for: .milliseconds(500))
                        let after = seen.requests.withLock { $0 }
                        #expect(!after.contains { $0.path == "/echo/nokey" })
                        #expect(!after.contains { $0.path.hasPrefix("/echo/n") }, "a share of 0 % mirrors nothing")
                        let halves = after.filter { $0.path.hasPrefix("/echo/h") }.count
                        #expect((5...35).contains(halves), "\(halves) of 40 mirrored at 50 %")
                    }
                }
            }
        }
    }
}
