import Foundation
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoTesting
import Testing

/// Validation and the mock as a client meets them: problem+json answers, `report` mode's call
/// records, responses checked against a real upstream, and Prism's `Prefer` forms.
@Suite("Validation and the mock at the gateway")
struct ValidationGatewayTests {
    static let shop = ShopFixture.document
    static let admin = "admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}\n"
    static let json = [("Content-Type", "application/json")]

    static let yaml =
        admin + """
            apis:
              - {name: shop, base-path: /shop, openapi: shop.yaml, upstream: mock, validate: enforce}
              - {name: lax, base-path: /lax, openapi: shop.yaml, upstream: mock, validate: report}
            """

    @Test(
        "enforce: an invalid request gets 400 problem+json listing each issue with its pointer; a wrong media type 415; the mock answers a valid one"
    )
    func enforce() async throws {
        try await GatewayHarness.with(yaml: Self.yaml, files: ["shop.yaml": Self.shop]) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let body =
                    #"{"id":3,"items":[{"sku":"ABC-1","price":-1}],"payment":{"kind":"card","number":"4111111111111111"}}"#
                let refused = try await client.send(
                    .POST, "/shop/orders", headers: Self.json + [("X-Request-Id", "val-1")],
                    body: .bytes(ByteBuffer(string: body)))
                #expect(refused.status == 400)
                #expect(refused.headers.first(name: "Content-Type") == "application/problem+json")
                let problem = try refused.json()
                #expect(problem["type"] as? String == "https://portico.dev/problems/invalid-request")
                #expect(problem["request_id"] as? String == "val-1")
                let errors = try #require(problem["errors"] as? [[String: String]])
                #expect(errors.map { $0["pointer"] ?? "" } == ["/body/id", "/body/items/0/price"])
                #expect(errors.last?["detail"] == "expected more than 0, found -1")

                let text = try await client.send(
                    .POST, "/shop/orders", headers: [("Content-Type", "text/plain")],
                    body: .bytes(ByteBuffer(string: "hello")))
                #expect(text.status == 415)
                #expect(
                    try text.json()["accepted"] as? [String] == [
                        "application/json", "application/x-www-form-urlencoded", "multipart/form-data",
                    ])

                let missing = try await client.send(.GET, "/shop/items/0?limit=1000")
                #expect(missing.status == 400)
                let pointers = try (missing.json()["errors"] as? [[String: String]])?.map { $0["pointer"] ?? "" }
                #expect(pointers == ["/path/id", "/query/limit", "/header/X-Trace"])

                let good = #"{"items":[{"sku":"ABC-1","price":1}],"payment":{"kind":"bank","iban":"DE00"}}"#
                let created = try await client.send(
                    .POST, "/shop/orders", headers: Self.json, body: .bytes(ByteBuffer(string: good)))
                #expect(created.status == 201)
                #expect(created.headers.first(name: "X-Portico-Mock") == "true")
            }
        }
    }

    @Test(
        "an upload of a media type without a schema to check streams through unread, past the 1 MiB a checked body may have"
    )
    func upload() async throws {
        let spec = """
            openapi: 3.1.0
            info: {title: Files, version: "1"}
            paths:
              /upload:
                post:
                  requestBody:
                    required: true
                    content: {application/octet-stream: {schema: {type: string, format: binary}}, application/json: {schema: {type: object}}}
                  responses: {'200': {description: Stored}}
            """
        try await withUpstream { port in
            let yaml =
                upstreamYAML(port: port)
                + "\napis:\n  - {name: files, base-path: /f, openapi: files.yaml, upstream: backend, validate: enforce}\n"
            try await GatewayHarness.with(yaml: yaml, files: ["files.yaml": spec]) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let big = ByteBuffer(repeating: 7, count: 3 * 1024 * 1024)
                    let stored = try await client.send(
                        .POST, "/f/upload", headers: [("Content-Type", "application/octet-stream")], body: .bytes(big))
                    #expect(stored.status == 200)
                    #expect(try stored.json()["bytes"] as? Int == 3 * 1024 * 1024)
                    let json = try await client.send(
                        .POST, "/f/upload", headers: Self.json,
                        body: .bytes(ByteBuffer(repeating: 32, count: 2 * 1024 * 1024)))
                    #expect(json.status == 413)
                    let none = try await client.send(.POST, "/f/upload")
                    #expect(none.status == 400)
                }
            }
        }
    }

    @Test("report: an invalid request is forwarded and its issues are in the call record")
    func report() async throws {
        try await GatewayHarness.with(yaml: Self.yaml, files: ["shop.yaml": Self.shop]) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
                let passed = try await client.send(
                    .POST, "/lax/orders", headers: Self.json + [("X-Request-Id", "val-report-1")],
                    body: .bytes(ByteBuffer(string: #"{"items":[]}"#)))
                #expect(passed.status == 201)
                let call = try await MirrorTests.call(admin, requestID: "val-report-1")
                #expect(
                    call?["validation"] as? String
                        == "request /body/payment: is required; request /body/items: expected at least 1 items, found 0"
                )
                let clean = try await client.send(
                    .GET, "/lax/items/4",
                    headers: [("X-Trace", "3fa85f64-5717-4562-b3fc-2c963f66afa6"), ("X-Request-Id", "val-report-2")])
                #expect(clean.status == 200)
                let cleanCall = try await MirrorTests.call(admin, requestID: "val-report-2")
                #expect(cleanCall?["validation"] == nil)
                let metrics = try await admin.send(
                    .GET, "/metrics", headers: [("Authorization", "Bearer test-admin-token-0123456789abcdef")])
                #expect(
                    metrics.text.contains(
                        #"portico_validation_failures_total{api="lax",route="createOrder",direction="request"} 1"#))
            }
        }
    }

    @Test(
        "on the event-loop path: parameters are checked before the upstream is called; responses are checked in report mode"
    )
    func realUpstream() async throws {
        let spec = """
            openapi: 3.1.0
            info: {title: Echo, version: "1"}
            paths:
              /echo/{name}:
                get:
                  operationId: echo
                  parameters: [{name: limit, in: query, schema: {type: integer, maximum: 10}}]
                  responses:
                    '200':
                      description: OK
                      content: {application/json: {schema: {type: object, required: [method, uri], properties: {method: {const: GET}, uri: {type: integer}}}}}
            """
        try await withUpstream { port in
            let yaml =
                Self.admin + upstreamYAML(port: port) + """

                    apis:
                      - {name: echo, base-path: /api, openapi: echo.yaml, upstream: backend, validate: enforce}
                      - {name: checked, base-path: /checked, openapi: echo.yaml, upstream: backend, validate-responses: report}
                    """
            try await GatewayHarness.with(yaml: yaml, files: ["echo.yaml": spec]) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let admin = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
                    let refused = try await client.send(.GET, "/api/echo/a?limit=11")
                    #expect(refused.status == 400)
                    #expect(try (refused.json()["errors"] as? [[String: String]])?.first?["pointer"] == "/query/limit")
                    let passed = try await client.send(.GET, "/api/echo/a?limit=3")
                    #expect(passed.status == 200)
                    #expect(try passed.json()["uri"] as? String == "/echo/a?limit=3")
                    let checked = try await client.send(
                        .GET, "/checked/echo/a?limit=3", headers: [("X-Request-Id", "val-up-1")])
                    #expect(checked.status == 200)
                    let call = try await MirrorTests.call(admin, requestID: "val-up-1")
                    #expect(
                        call?["validation"] as? String
                            == "response /response/body/uri: expected integer, found string \"/echo/a?limit=3\"")
                }
            }
        }
    }

    @Test("the mock follows Prefer: code, example and dynamic, alone and together, and says what it applied")
    func prefer() async throws {
        try await GatewayHarness.with(yaml: Self.yaml, files: ["shop.yaml": Self.shop]) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let order = #"{"items":[{"sku":"ABC-1","price":1}],"payment":{"kind":"bank","iban":"DE00"}}"#
                func post(_ prefer: String?) async throws -> TestClient.Answer {
                    try await client.send(
                        .POST, "/shop/orders", headers: Self.json + (prefer.map { [("Prefer", $0)] } ?? []),
                        body: .bytes(ByteBuffer(string: order)))
                }
                let plain = try await post(nil)
                #expect(plain.status == 201)
                #expect(try plain.json()["id"] as? Int == 1)
                #expect(plain.headers.first(name: "Preference-Applied") == nil)

                let large = try await post("example=large")
                #expect(large.status == 201)
                #expect(try large.json()["id"] as? Int == 2)
                #expect(large.headers.first(name: "Preference-Applied") == "example=large")

                let conflict = try await post("code=409")
                #expect(conflict.status == 409)
                #expect(conflict.text == #"{"reason":"duplicate"}"#)
                #expect(conflict.headers.first(name: "Preference-Applied") == "code=409")

                let both = try await post(#"code=201, example="small""#)
                #expect(try both.json()["id"] as? Int == 1)
                #expect(both.headers.first(name: "Preference-Applied") == "code=201, example=small")

                // Dynamic answers fit the schema and differ from call to call.
                let contract = try #require(ShopFixture.contracts["createOrder"])
                var bodies: Set<String> = []
                for _ in 0..<5 {
                    let dynamic = try await post("dynamic=true")
                    #expect(dynamic.status == 201)
                    #expect(dynamic.headers.first(name: "Preference-Applied") == "dynamic=true")
                    let issues = contract.validate(
                        response: 201, contentType: "application/json", body: Array(dynamic.text.utf8))
                    #expect(issues.isEmpty, "\(dynamic.text): \(issues)")
                    bodies.insert(dynamic.text)
                }
                #expect(bodies.count > 1)

                let teapot = try await post("code=418")
                #expect(teapot.status == 400)
                let unknown = try await post("example=none")
                #expect(unknown.status == 400)
                #expect(
                    try unknown.json()["detail"] as? String
                        == "The operation has no example named 'none' for the mock to give (Prefer: example=none).")
                // Validation applies to mocked routes too.
                let bad = try await client.send(
                    .POST, "/shop/orders", headers: Self.json + [("Prefer", "code=409")],
                    body: .bytes(ByteBuffer(string: "{}")))
                #expect(bad.status == 400)
            }
        }
    }
}
