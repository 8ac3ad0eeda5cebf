import Foundation
import JWTKit
import PorticoConfig
import PorticoTesting
import Testing

@Suite("OpenAPI security requirements and auth config errors")
struct OpenAPISecurityTests {
    static let spec = """
        openapi: 3.0.3
        info: {title: Store, version: "1"}
        security:
          - bearer: [read:pets]
          - apiKey: []
        components:
          securitySchemes:
            bearer:
              type: oauth2
              flows:
                clientCredentials:
                  tokenUrl: https://id.example.com/token
                  scopes: {read:pets: read, write:pets: write}
            apiKey:
              type: apiKey
              in: header
              name: X-API-Key
        paths:
          /echo/pets:
            get:
              operationId: listPets
              responses: {'200': {description: ok}}
            post:
              operationId: addPet
              security:
                - bearer: [write:pets]
              responses: {'200': {description: ok}}
          /echo/health:
            get:
              operationId: health
              security: []
              responses: {'200': {description: ok}}
          /echo/maybe:
            get:
              operationId: maybe
              security:
                - bearer: [read:pets]
                - {}
              responses: {'200': {description: ok}}
        """

    static func yaml(upstreamPort: Int) -> String {
        """
        \(upstreamYAML(port: upstreamPort))
        auth:
          oauth:
            type: jwt
            secret: \(TestKeys.secret)
          keys:
            type: api-key
        consumers:
          - name: reader-app
            scopes: [read:pets]
            keys: ["reader-key-0123456789abcdef"]
        apis:
          - name: store
            base-path: /store
            upstream: backend
            openapi: store.yaml
        """
    }

    @Test("an operation's security scopes are checked against the token's scope claim")
    func scopes() async throws {
        let keys = TestKeys.shared
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: upstreamPort), files: ["store.yaml": Self.spec])
            { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    func token(_ scope: String?) async throws -> [(String, String)] {
                        var claims = TestClaims()
                        claims.scope = scope
                        return [("Authorization", "Bearer " + (try await keys.sign("HS256", claims)))]
                    }
                    #expect(
                        try await client.send(.GET, "/store/echo/pets", headers: try await token("read:pets")).status
                            == 200)
                    #expect(
                        try await client.send(.GET, "/store/echo/pets", headers: try await token("other")).status == 403
                    )
                    #expect(
                        try await client.send(.POST, "/store/echo/pets", headers: try await token("read:pets")).status
                            == 403)
                    #expect(
                        try await client.send(
                            .POST, "/store/echo/pets", headers: try await token("read:pets write:pets")
                        ).status == 200)
                    let missing = try await client.send(.GET, "/store/echo/pets")
                    #expect(missing.status == 401)
                    #expect(
                        Set(missing.headers["WWW-Authenticate"]) == [
                            "Bearer realm=\"portico\"", "APIKey header=\"X-API-Key\"",
                        ])
                    // The document's second alternative: an API key, whose consumer's scopes apply.
                    let byKey = try await client.send(
                        .GET, "/store/echo/pets", headers: [("X-API-Key", "reader-key-0123456789abcdef")])
                    #expect(byKey.status == 200)
                    #expect(
                        try await client.send(
                            .POST, "/store/echo/pets", headers: [("X-API-Key", "reader-key-0123456789abcdef")]
                        ).status == 401)
                    #expect(try await client.send(.GET, "/store/echo/health").status == 200)
                    // `{}` makes authentication optional, but a bad token is still refused.
                    #expect(try await client.send(.GET, "/store/echo/maybe").status == 200)
                    #expect(
                        try await client.send(.GET, "/store/echo/maybe", headers: [("Authorization", "Bearer nope")])
                            .status == 401)
                }
            }
        }
    }

    @Test("bad auth config is reported with file and line")
    func configErrors() throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let yaml = """
            upstreams:
              b:
                targets: [{url: "http://127.0.0.1:1"}]
            auth:
              short:
                type: jwt
                secret: too-short
              nothing:
                type: jwt
                issuer: x
              badkey:
                type: jwt
                public-key: "-----BEGIN PUBLIC KEY-----\\nnot a key\\n-----END PUBLIC KEY-----"
              weird:
                type: kerberos
            consumers:
              - name: bad name!
              - name: hashed
                password-hash: plain-text
            apis:
              - name: a
                base-path: /a
                upstream: b
                auth: [keys]
              - name: s
                base-path: /s
                upstream: b
                openapi: s.yaml
            """
        let spec = """
            openapi: 3.0.3
            info: {title: S, version: "1"}
            components:
              securitySchemes:
                basicAuth: {type: http, scheme: basic}
            paths:
              /x:
                get:
                  security: [{basicAuth: []}]
                  responses: {'200': {description: ok}}
            """
        try yaml.write(toFile: folder + "/gateway.yaml", atomically: true, encoding: .utf8)
        try spec.write(toFile: folder + "/s.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader().load(file: folder + "/gateway.yaml")
            Issue.record("the config loaded")
        } catch {
            let text = error.description
            let expected = [
                "gateway.yaml:7:", "secret must be at least 32 bytes",
                "gateway.yaml:9:", "needs one of secret, public-key or jwks-url",
                "gateway.yaml:13:", "public-key: the PEM block is not",
                "gateway.yaml:15:", "unknown auth type 'kerberos'",
                "gateway.yaml:17:", "consumer name 'bad name!'",
                "gateway.yaml:19:", "password-hash must be pbkdf2-sha256",
                "names auth method 'keys', which is not defined",
                "s.yaml:5:", "security scheme 'basicAuth' maps onto no auth method",
            ]
            for part in expected { #expect(text.contains(part), "missing \(part) in:\n\(text)") }
        }
    }
}
