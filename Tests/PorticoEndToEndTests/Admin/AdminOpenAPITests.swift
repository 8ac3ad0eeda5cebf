import Foundation
import NIOCore
import NIOHTTP1
import OpenAPIKit
import PorticoTesting
import Testing

/// Checks answers against the JSON Schema subset the admin document uses: `type` (one or a
/// list), `properties`, `required`, `items`, `enum`, `const`, `allOf`, `oneOf` and `$ref`.
struct SchemaChecker {
    let document: [String: Any]

    func problems(_ value: Any, _ schema: [String: Any], at path: String = "$") -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = String(ref.split(separator: "/").last ?? "")
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
            guard let target = schemas?[name] as? [String: Any] else { return ["\(path): unknown $ref \(ref)"] }
            return problems(value, target, at: path)
        }
        var found: [String] = []
        if let all = schema["allOf"] as? [[String: Any]] {
            for part in all { found += problems(value, part, at: path) }
        }
        if let one = schema["oneOf"] as? [[String: Any]] {
            let matching = one.filter { problems(value, $0, at: path).isEmpty }.count
            if matching != 1 { found.append("\(path): matches \(matching) of oneOf's \(one.count) schemas") }
        }
        if let types = schema["type"].map({ ($0 as? [String]) ?? [$0 as? String ?? ""] }),
            !types.contains(where: { Self.isType(value, $0) })
        {
            return found + ["\(path): \(value) is not \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
            found.append("\(path): \(value) is not one of \(allowed)")
        }
        if let constant = schema["const"], "\(constant)" != "\(value)" {
            found.append("\(path): \(value) is not \(constant)")
        }
        if let object = value as? [String: Any] {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                found.append("\(path): missing \(key)")
            }
            for (key, property) in (schema["properties"] as? [String: [String: Any]]) ?? [:] {
                if let member = object[key] { found += problems(member, property, at: path + "." + key) }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.enumerated() { found += problems(item, items, at: "\(path)[\(index)]") }
        }
        return found
    }

    static func isType(_ value: Any, _ kind: String) -> Bool {
        switch kind {
        case "null": return value is NSNull
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return isBool(value)
        case "integer":
            return (value as? NSNumber).map { !isBool(value) && $0.doubleValue == $0.doubleValue.rounded() } ?? false
        case "number": return value is NSNumber && !isBool(value)
        default: return false
        }
    }

    /// Foundation on Linux gives JSON booleans their own class; numbers are plain `NSNumber`s.
    static func isBool(_ value: Any) -> Bool {
        "\(type(of: value))".contains("Boolean") || type(of: value) == Bool.self
    }
}

@Suite("The admin API and its OpenAPI document")
struct AdminOpenAPITests {
    static func yaml(upstreamPort: Int) -> String {
        """
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        \(upstreamYAML(name: "origin", port: upstreamPort))
        auth:
          keys: {type: api-key}
        plans:
          free: {rate: 100/m}
        consumers:
          - {name: config-app, plan: free, keys: [config-key-0123456789abcdef]}
        portal: {path: /portal, signup: approval}
        apis:
          - {name: echo, base-path: /echo, upstream: origin, auth: [keys], cache: true}
        """
    }

    /// One call per operation of the document, in an order that makes each meaningful.
    struct Step {
        var operation: String
        var method: HTTPMethod
        var path: String
        var body: String?
    }

    static let steps: [Step] = [
        Step(operation: "getStatus", method: .GET, path: "/admin/status"),
        Step(operation: "listRoutes", method: .GET, path: "/admin/routes"),
        Step(operation: "listUpstreams", method: .GET, path: "/admin/upstreams"),
        Step(operation: "drainTarget", method: .POST, path: "/admin/upstreams/origin/targets/0/drain"),
        Step(operation: "undrainTarget", method: .POST, path: "/admin/upstreams/origin/targets/0/undrain"),
        Step(
            operation: "createConsumer", method: .POST, path: "/admin/consumers",
            body: #"{"name":"walker","groups":["a"],"plan":"free"}"#),
        Step(operation: "listConsumers", method: .GET, path: "/admin/consumers"),
        Step(operation: "getConsumer", method: .GET, path: "/admin/consumers/walker"),
        Step(
            operation: "setPassword", method: .PUT, path: "/admin/consumers/walker/password",
            body: #"{"password":"a long enough password"}"#),
        Step(operation: "createKey", method: .POST, path: "/admin/consumers/walker/keys", body: #"{"expires":"1d"}"#),
        Step(operation: "listKeys", method: .GET, path: "/admin/consumers/walker/keys"),
        Step(
            operation: "rotateKey", method: .POST, path: "/admin/consumers/walker/keys/{id}/rotate",
            body: #"{"grace":"1s"}"#),
        Step(operation: "revokeKey", method: .DELETE, path: "/admin/consumers/walker/keys/{id}"),
        Step(operation: "listApps", method: .GET, path: "/admin/apps?status=pending"),
        Step(operation: "approveApp", method: .POST, path: "/admin/apps/{app}/approve"),
        Step(operation: "revokeApp", method: .POST, path: "/admin/apps/{app}/revoke"),
        Step(operation: "getLimits", method: .GET, path: "/admin/limits?key=config-app"),
        Step(operation: "getCache", method: .GET, path: "/admin/cache"),
        Step(operation: "purgeCache", method: .POST, path: "/admin/cache/purge", body: #"{"prefix":"/echo/"}"#),
        Step(operation: "timeSeries", method: .GET, path: "/admin/analytics/timeseries?since=1h&bucket=1m"),
        Step(operation: "top", method: .GET, path: "/admin/analytics/top?by=route"),
        Step(operation: "searchCalls", method: .GET, path: "/admin/analytics/calls?since=1h"),
        Step(operation: "metrics", method: .GET, path: "/metrics"),
        Step(operation: "openapi", method: .GET, path: "/admin/openapi.json"),
        Step(operation: "reload", method: .POST, path: "/admin/reload"),
        Step(operation: "deleteConsumer", method: .DELETE, path: "/admin/consumers/walker"),
    ]

    static func run(
        _ body: @Sendable (TestClient, AdminClient, GatewayHarness.Running) async throws -> Void
    ) async throws {
        try await withUpstream { upstreamPort in
            try await GatewayHarness.with(yaml: yaml(upstreamPort: upstreamPort)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    try await body(client, adminClient(client, port: gateway.adminPort!), gateway)
                }
            }
        }
    }

    /// The document's operations as (method, path template, operation).
    static func operations(_ document: [String: Any]) -> [(method: String, path: String, operation: [String: Any])] {
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        return paths.flatMap { path, item in
            item.compactMap { method, operation in (operation as? [String: Any]).map { (method.uppercased(), path, $0) }
            }
        }
    }

    @Test("Every operation in /admin/openapi.json answers as the document says")
    func everyEndpointMatchesTheDocument() async throws {
        try await Self.run { client, admin, gateway in
            _ = try await client.send(.GET, "/echo/echo/a", headers: [("X-API-Key", "config-key-0123456789abcdef")])
            // A developer's app waiting for approval, as the portal makes one.
            let account = try await gateway.app.store.createAccount(
                email: "dev@example.com", passwordHash: "unused", plan: nil)
            let app = try await gateway.app.store.createApp(
                account: account.id, name: "walked", description: "", active: false)
            let document = try await admin.send(.GET, "/admin/openapi.json").json()
            #expect(document["openapi"] as? String == "3.1.0")
            let operations = Self.operations(document)
            let documented = Set(operations.compactMap { $0.operation["operationId"] as? String })
            #expect(
                documented == Set(Self.steps.map(\.operation)),
                "the walk must call every documented operation, and only those")
            let checker = SchemaChecker(document: document)
            var keyID = ""
            for step in Self.steps {
                let path = step.path.replacingOccurrences(of: "{id}", with: keyID).replacingOccurrences(
                    of: "{app}", with: String(app.id))
                let answer = try await admin.send(step.method, path, json: step.body)
                let template = String(step.path.split(separator: "?")[0])
                guard let entry = operations.first(where: { $0.operation["operationId"] as? String == step.operation })
                else { continue }
                #expect(entry.method == step.method.rawValue, "\(step.operation)")
                let concrete = template.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(
                    of: "{app}", with: "1")
                #expect(Self.matches(template: entry.path, path: concrete), "\(step.operation): \(entry.path)")
                let responses = entry.operation["responses"] as? [String: Any] ?? [:]
                guard var declared = responses[String(answer.status)] as? [String: Any] else {
                    Issue.record(
                        "\(step.operation) answered \(answer.status), which the document does not list: \(answer.text)")
                    continue
                }
                if let ref = declared["$ref"] as? String {
                    declared =
                        ((document["components"] as? [String: Any])?["responses"] as? [String: Any])?[
                            String(ref.split(separator: "/").last!)] as? [String: Any] ?? [:]
                }
                guard let content = declared["content"] as? [String: [String: Any]] else {
                    #expect(answer.body.readableBytes == 0, "\(step.operation): body where the document declares none")
                    continue
                }
                let contentType =
                    answer.headers["Content-Type"].first?.split(separator: ";").first.map(String.init) ?? ""
                // The document may name a media type with its parameters (Prometheus's `text/plain; version=0.0.4`).
                let media = content.first { $0.key.split(separator: ";").first.map(String.init) == contentType }?.value
                guard let media, let schema = media["schema"] as? [String: Any] else {
                    Issue.record("\(step.operation): content type \(contentType) not in \(content.keys.sorted())")
                    continue
                }
                if contentType.hasSuffix("json") {
                    let value = try JSONSerialization.jsonObject(
                        with: Data(buffer: answer.body), options: [.fragmentsAllowed])
                    let problems = checker.problems(value, schema)
                    #expect(problems.isEmpty, "\(step.operation): \(problems)")
                    if step.operation == "createKey", let id = (value as? [String: Any])?["id"] as? Int {
                        keyID = String(id)
                    }
                    if step.operation == "rotateKey", let id = (value as? [String: Any])?["id"] as? Int {
                        keyID = String(id)
                    }
                }
                #expect(
                    (200..<300).contains(answer.status), "\(step.operation) answered \(answer.status): \(answer.text)")
            }
        }
    }

    @Test("The document is valid OpenAPI 3.1 (OpenAPIKit decodes and validates it)")
    func documentIsValid() async throws {
        try await Self.run { _, admin, _ in
            let answer = try await admin.send(.GET, "/admin/openapi.json")
            let document = try JSONDecoder().decode(OpenAPI.Document.self, from: Data(buffer: answer.body))
            try document.validate()
            #expect(document.paths.count == 23)
            #expect(document.allOperationIds.count == Self.steps.count)
        }
    }

    static func matches(template: String, path: String) -> Bool {
        let a = template.split(separator: "/"), b = path.split(separator: "/")
        return a.count == b.count && zip(a, b).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }

    @Test("Accept is checked before an operation runs, so a refused answer changes nothing; HEAD answers as GET")
    func acceptBeforeTheOperation() async throws {
        try await Self.run { client, admin, gateway in
            let bare = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
            let token = ("Authorization", "Bearer test-admin-token-0123456789abcdef")
            #expect(try await admin.send(.POST, "/admin/consumers", json: #"{"name":"picky"}"#).status == 201)
            // The generated server checks Accept only after the operation: the key would exist, unseen.
            let refused = try await bare.send(
                .POST, "/admin/consumers/picky/keys", headers: [token, ("Accept", "text/plain")])
            #expect(refused.status == 406)
            #expect(refused.headers["Content-Type"].first == "application/problem+json")
            let keys = try await admin.send(.GET, "/admin/consumers/picky/keys").json()
            #expect((keys["keys"] as? [Any])?.isEmpty == true, "\(keys)")
            let taken = try await bare.send(
                .POST, "/admin/consumers/picky/keys", headers: [token, ("Accept", "text/plain, application/*;q=0.5")])
            #expect(taken.status == 201)

            // A media type's parameters do not count: text/plain takes text/plain; version=0.0.4.
            #expect(try await bare.send(.GET, "/metrics", headers: [token, ("Accept", "text/plain")]).status == 200)

            let head = try await bare.send(.HEAD, "/admin/status", headers: [token])
            #expect(head.status == 200 && head.body.readableBytes == 0)
            let patched = try await bare.send(.PATCH, "/admin/status", headers: [token])
            #expect(patched.status == 405)
            #expect(patched.headers["Allow"].first == "GET, HEAD")
        }
    }

    @Test("Every admin endpoint wants the token; a missing or wrong one gets the same 401 problem, which names nothing")
    func tokenOnEveryEndpoint() async throws {
        try await Self.run { client, admin, gateway in
            let document = try await admin.send(.GET, "/admin/openapi.json").json()
            let bare = TestClient(client: client.client, baseURL: "http://127.0.0.1:\(gateway.adminPort!)")
            var bodies: Set<String> = []
            let operations = Self.operations(document)
            #expect(operations.count == Self.steps.count)
            for entry in operations {
                let path = entry.path.replacingOccurrences(of: "{upstream}", with: "origin").replacingOccurrences(
                    of: "{index}", with: "0"
                )
                .replacingOccurrences(of: "{name}", with: "config-app").replacingOccurrences(of: "{id}", with: "1")
                let method = HTTPMethod(rawValue: entry.method)
                for headers in [
                    [], [("Authorization", "Bearer wrong")],
                    [("Authorization", "Bearer test-admin-token-0123456789abcdef-but-longer")],
                    [("Authorization", "test-admin-token-0123456789abcdef")],
                ] {
                    let answer = try await bare.send(method, path, headers: headers)
                    #expect(answer.status == 401, "\(entry.method) \(path) with \(headers)")
                    #expect(answer.headers["Content-Type"].first == "application/problem+json")
                    var problem = try answer.json()
                    problem["request_id"] = nil
                    problem["instance"] = nil
                    bodies.insert(String(describing: problem.sorted { $0.key < $1.key }))
                }
            }
            // Unknown paths are not told apart from known ones without the token…
            #expect(try await bare.send(.GET, "/admin/nothing-here").status == 401)
            #expect(bodies.count == 1, "\(bodies)")
            // …and with it, they are problem+json too.
            let missing = try await admin.send(.GET, "/admin/nothing-here")
            #expect(missing.status == 404 && missing.headers["Content-Type"].first == "application/problem+json")
            #expect(try missing.json()["request_id"] as? String != nil)
        }
    }
}
