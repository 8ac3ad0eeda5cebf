import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import JWTKit
import NIOCore
import PorticoTesting
import Synchronization
import Testing

/// Claims for test tokens; the gateway checks them, so the payload checks nothing itself.
struct TestClaims: JWTPayload {
    var sub: String? = "partner-1"
    var exp: Int? = Int(Date().timeIntervalSince1970) + 600
    var nbf: Int?
    var iss: String? = "https://id.example.com"
    var aud: [String]? = ["portico"]
    var scope: String?
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Keys generated once per test run, with helpers to sign with them.
struct TestKeys: Sendable {
    /// 64 bytes, enough for HS512.
    static let secret = "a-test-secret-that-is-long-enough-for-hs512-0123456789abcdefghij"
    let rsa: JWTKit.Insecure.RSA.PrivateKey
    let es256: ES256PrivateKey
    let es384: ES384PrivateKey
    let ed: EdDSA.PrivateKey

    static let shared: TestKeys = {
        TestKeys(
            rsa: try! JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)),
            es256: ES256PrivateKey(), es384: ES384PrivateKey(), ed: try! EdDSA.PrivateKey(curve: .ed25519))
    }()

    /// The Ed25519 public key as an inline JWK.
    var edJWK: String {
        let x = Data(ed.publicKey.rawRepresentation).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
        return #"{"kty":"OKP","crv":"Ed25519","x":"\#(x)"}"#
    }

    func sign(_ alg: String, _ claims: TestClaims = TestClaims(), kid: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        let digest: DigestAlgorithm = alg.hasSuffix("384") ? .sha384 : alg.hasSuffix("512") ? .sha512 : .sha256
        switch alg.prefix(2) {
        case "HS": await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: digest)
        case "RS": await keys.add(rsa: rsa, digestAlgorithm: digest)
        case "PS": await keys.add(pss: rsa, digestAlgorithm: digest)
        case "ES": if alg == "ES256" { await keys.add(ecdsa: es256) } else { await keys.add(ecdsa: es384) }
        default: await keys.add(eddsa: ed)
        }
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }
}

func base64URL(_ text: String) -> String {
    Data(text.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
}

/// An ES256 JWK for a public key, with a key id.
func es256JWK(_ key: ES256PrivateKey, kid: String) -> String {
    let raw = try! P256.Signing.PublicKey(pemRepresentation: key.publicKey.pemRepresentation)
    let bytes = Array(raw.rawRepresentation)
    func encode(_ part: ArraySlice<UInt8>) -> String {
        Data(part).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }
    return
        #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","alg":"ES256","x":"\#(encode(bytes[0..<32]))","y":"\#(encode(bytes[32..<64]))"}"#
}

@Suite("JWT authentication")
struct JWTAuthTests {
    static func indent(_ text: String, _ spaces: Int) -> String {
        text.split(separator: "\n").map { String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
    }

    static func yaml(upstreamPort: Int, jwksPort: Int) -> String {
        let keys = TestKeys.shared
        let claims = """
                issuer: https://id.example.com
                audience: [portico, other]
                leeway: 5s
            """
        return """
            \(upstreamYAML(port: upstreamPort))
            auth:
              hs:
                type: jwt
                secret: \(TestKeys.secret)
            \(claims)
              rsa:
                type: jwt
                public-key: |
            \(indent(keys.rsa.publicKey.pemRepresentation, 6))
            \(claims)
              es256:
                type: jwt
                public-key: |
            \(indent(keys.es256.publicKey.pemRepresentation, 6))
            \(claims)
              es384:
                type: jwt
                public-key: |
            \(indent(keys.es384.publicKey.pemRepresentation, 6))
            \(claims)
              ed:
                type: jwt
                public-key: '\(keys.edJWK)'
            \(claims)
              idp:
                type: jwt
                jwks-url: http://127.0.0.1:\(jwksPort)/jwks.json
            \(claims)
            apis:
            \(["hs", "rsa", "es256", "es384", "ed", "idp"].map { name in
                """
                  - name: \(name)
                    base-path: /\(name)
                    upstream: backend
                    auth: [\(name)]
                """
            }.joined(separator: "\n"))
            """
    }

    /// The JWKS server: serves the current key set and counts fetches.
    final class JWKSServer: Sendable {
        let keys = Mutex<[String]>([])
        let fetches = Atomic<Int>(0)
        let failing = Atomic<Bool>(false)

        func router() -> Router<BasicRequestContext> {
            let router = Router(context: BasicRequestContext.self)
            router.get("/jwks.json") { _, _ -> Response in
                self.fetches.add(1, ordering: .relaxed)
                if self.failing.load(ordering: .relaxed) { return Response(status: .internalServerError) }
                let body = "{\"keys\":[" + self.keys.withLock { $0 }.joined(separator: ",") + "]}"
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            return router
        }
    }

    static func run(_ body: @Sendable (TestClient, JWKSServer) async throws -> Void) async throws {
        let jwks = JWKSServer()
        try await withServer(jwks.router()) { jwksPort in
            try await withUpstream { upstreamPort in
                try await GatewayHarness.with(yaml: yaml(upstreamPort: upstreamPort, jwksPort: jwksPort)) { gateway in
                    try await withClient(baseURL: gateway.baseURL) { client in try await body(client, jwks) }
                }
            }
        }
    }

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer " + token)] }

    @Test("tokens signed with every algorithm are accepted; the upstream sees the consumer and scopes, not the token")
    func everyAlgorithm() async throws {
        let keys = TestKeys.shared
        try await Self.run { client, _ in
            let routes = [
                "HS256": "hs", "HS384": "hs", "HS512": "hs", "RS256": "rsa", "RS384": "rsa", "RS512": "rsa",
                "PS256": "rsa", "PS384": "rsa", "PS512": "rsa", "ES256": "es256", "ES384": "es384", "EdDSA": "ed",
            ]
            for (alg, route) in routes.sorted(by: { $0.key < $1.key }) {
                var claims = TestClaims()
                claims.scope = "read write"
                let token = try await keys.sign(alg, claims)
                let answer = try await client.send(.GET, "/\(route)/echo/x", headers: Self.bearer(token))
                #expect(answer.status == 200, "\(alg): \(answer.text)")
                guard answer.status == 200 else { continue }
                let headers = try echoedHeaders(answer)
                #expect(headers["x-consumer-name"] == ["partner-1"], "\(alg)")
                #expect(headers["x-authenticated-scopes"] == ["read write"], "\(alg)")
                #expect(headers["authorization"] == nil, "\(alg)")
                // Cached: the same token again.
                #expect(try await client.send(.GET, "/\(route)/echo/x", headers: Self.bearer(token)).status == 200)
            }
        }
    }

    @Test("expired, not-yet-valid, wrong-audience, wrong-issuer, tampered, none and algorithm-confusion tokens get 401")
    func badTokens() async throws {
        let keys = TestKeys.shared
        try await Self.run { client, _ in
            let now = Int(Date().timeIntervalSince1970)
            var expired = TestClaims()
            expired.exp = now - 60
            var early = TestClaims()
            early.nbf = now + 60
            var audience = TestClaims()
            audience.aud = ["someone-else"]
            var issuer = TestClaims()
            issuer.iss = "https://evil.example.com"
            var noExp = TestClaims()
            noExp.exp = nil
            var withinLeeway = TestClaims()

            let good = try await keys.sign("RS256")
            let parts = good.split(separator: ".")
            let forgedPayload = base64URL(
                #"{"sub":"admin","exp":\#(now + 600),"iss":"https://id.example.com","aud":"portico"}"#)
            let tampered = "\(parts[0]).\(forgedPayload).\(parts[2])"
            let none = base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + parts[1] + "."
            let noneSigned = base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + parts[1] + "." + parts[2]
            // Algorithm confusion: an HS256 token whose secret is the RSA public key.
            let confusionKeys = JWTKeyCollection()
            await confusionKeys.add(hmac: HMACKey(from: keys.rsa.publicKey.pemRepresentation), digestAlgorithm: .sha256)
            let confused = try await confusionKeys.sign(TestClaims())

            let cases: [(String, String)] = [
                ("expired", try await keys.sign("RS256", expired)),
                ("not yet valid", try await keys.sign("RS256", early)),
                ("wrong audience", try await keys.sign("RS256", audience)),
                ("wrong issuer", try await keys.sign("RS256", issuer)),
                ("no exp", try await keys.sign("RS256", noExp)),
                ("tampered", tampered),
                ("alg none", none),
                ("alg none with a signature", noneSigned),
                ("HS256 with the RSA public key", confused),
                ("ES256 token at the RSA method", try await keys.sign("ES256")),
                ("garbage", "not.a.token"),
            ]
            var details: Set<String> = []
            for (name, token) in cases {
                let answer = try await client.send(.GET, "/rsa/echo/x", headers: Self.bearer(token))
                #expect(answer.status == 401, "\(name) was not refused")
                #expect(answer.headers["WWW-Authenticate"].contains("Bearer realm=\"portico\""), "\(name)")
                details.insert((try answer.json()["detail"] as? String) ?? "")
            }
            #expect(details.count == 1, "the 401s differ: \(details)")
            // Expired 2 s ago, counted from now: the cases above may take seconds on a loaded machine.
            withinLeeway.exp = Int(Date().timeIntervalSince1970) - 2
            #expect(
                try await client.send(
                    .GET, "/rsa/echo/x", headers: Self.bearer(try await keys.sign("RS256", withinLeeway))
                ).status == 200)
            // An HMAC token for the HS method signed with another secret.
            let otherSecret = JWTKeyCollection()
            await otherSecret.add(
                hmac: HMACKey(from: "another-secret-that-is-also-long-enough-for-hs256"), digestAlgorithm: .sha256)
            #expect(
                try await client.send(
                    .GET, "/hs/echo/x", headers: Self.bearer(try await otherSecret.sign(TestClaims()))
                ).status == 401)
        }
    }

    @Test("a JWKS that rotates: unknown kids cause one refetch per 10 s, and held keys survive an IdP outage")
    func jwksRotation() async throws {
        let first = ES256PrivateKey()
        let second = ES256PrivateKey()
        let third = ES256PrivateKey()
        try await Self.run { client, jwks in
            jwks.keys.withLock { $0 = [es256JWK(first, kid: "k1")] }
            func token(_ key: ES256PrivateKey, _ kid: String) async throws -> String {
                let keys = JWTKeyCollection()
                await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
                return try await keys.sign(TestClaims(), kid: JWKIdentifier(string: kid))
            }
            let one = try await token(first, "k1")
            #expect(try await client.send(.GET, "/idp/echo/x", headers: Self.bearer(one)).status == 200)
            #expect(jwks.fetches.load(ordering: .relaxed) == 1)

            // The IdP rotates: k2 is new, k1 stays published for a while.
            jwks.keys.withLock { $0 = [es256JWK(first, kid: "k1"), es256JWK(second, kid: "k2")] }
            let two = try await token(second, "k2")
            #expect(try await client.send(.GET, "/idp/echo/x", headers: Self.bearer(two)).status == 200)
            #expect(jwks.fetches.load(ordering: .relaxed) == 2)

            // More unknown kids within 10 s: refused without hammering the IdP.
            let stranger = try await token(third, "k3")
            for _ in 0..<5 {
                #expect(try await client.send(.GET, "/idp/echo/x", headers: Self.bearer(stranger)).status == 401)
            }
            #expect(jwks.fetches.load(ordering: .relaxed) == 2)

            // The IdP goes down: tokens of held keys still pass (new ones, so not from the token cache).
            jwks.failing.store(true, ordering: .relaxed)
            var fresh = TestClaims()
            fresh.sub = "partner-2"
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: second, kid: "k2")
            let another = try await keys.sign(fresh, kid: "k2")
            let answer = try await client.send(.GET, "/idp/echo/x", headers: Self.bearer(another))
            #expect(answer.status == 200)
            #expect(try echoedHeaders(answer)["x-consumer-name"] == ["partner-2"])
        }
    }
}
