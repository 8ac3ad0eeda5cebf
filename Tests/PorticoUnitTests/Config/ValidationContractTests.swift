import Foundation
import PorticoConfig
import PorticoTesting
import Testing

/// The compiled contract of `Fixtures/validation/shop.yaml`: each parameter style and body type,
/// and the JSON pointer and words of each issue.
@Suite("OpenAPI request and response validation")
struct ValidationContractTests {
    static let shop = ShopFixture.document
    static let contracts = ShopFixture.contracts

    func parts(
        path: [String: String] = [:], query: String = "", headers: [String: [String]] = [:],
        cookies: [(String, String)] = []
    ) -> RequestParts {
        RequestParts(
            pathValues: path, query: RequestParts.queryPairs(Substring(query)), header: { headers[$0] ?? [] },
            cookie: { name in cookies.first { $0.0 == name }?.1 })
    }

    func issues(_ operation: String, _ request: RequestParts) throws -> [String] {
        try #require(Self.contracts[operation]).validate(request).map(\.description)
    }

    func bodyIssues(_ body: String, contentType: String? = "application/json") throws -> [String] {
        let (verdict, found) = try #require(Self.contracts["createOrder"]).validate(
            body: Array(body.utf8), contentType: contentType)
        #expect(verdict == .checked)
        return found.map(\.description)
    }

    let trace = ["x-trace": ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]]

    @Test("query parameters in form, exploded and not, pipe- and space-delimited, and deepObject style")
    func queryStyles() throws {
        #expect(
            try issues(
                "getItem",
                parts(
                    path: ["id": "7"], query: "limit=50&tags=a&tags=b&ids=1,2&sizes=3|4&words=x%20y&filter[min]=1",
                    headers: trace)) == [])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "limit=500", headers: trace)) == [
                "/query/limit: expected at most 100, found 500"
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "limit=ten", headers: trace)) == [
                "/query/limit: expected integer, found string \"ten\""
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "tags=a&tags=c", headers: trace)) == [
                "/query/tags/1: expected one of \"a\", \"b\", found string \"c\""
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "ids=1,x", headers: trace)) == [
                "/query/ids/1: expected integer, found string \"x\""
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "sizes=3|big", headers: trace)) == [
                "/query/sizes/1: expected integer, found string \"big\""
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "words=a+b+c", headers: trace)) == [
                "/query/words: expected at most 2 items, found 3"
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], query: "filter[min]=x&filter[other]=1", headers: trace)) == [
                "/query/filter/min: expected integer, found string \"x\"",
                "/query/filter/other: is not a known property (additionalProperties is false)",
            ])
    }

    @Test("path parameters in simple, label and matrix style; headers and cookies")
    func pathHeaderCookie() throws {
        #expect(
            try issues("getItem", parts(path: ["id": "0"], headers: trace)) == [
                "/path/id: expected at least 1, found 0"
            ])
        #expect(try issues("getItem", parts(path: ["id": "7"])) == ["/header/X-Trace: is required"])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], headers: ["x-trace": ["not-a-uuid"]])) == [
                "/header/X-Trace: expected a string of format uuid, found string \"not-a-uuid\""
            ])
        #expect(
            try issues("getItem", parts(path: ["id": "7"], headers: trace, cookies: [("session", "abc")])) == [
                "/cookie/session: expected at least 8 characters, found 3"
            ])
        #expect(try issues("getPoint", parts(path: ["coords": ";x=1;y=2"])) == [])
        #expect(
            try issues("getPoint", parts(path: ["coords": ";x=1;y=north"])) == [
                "/path/coords/y: expected integer, found string \"north\""
            ])
        #expect(try issues("getPoint", parts(path: ["coords": ";x=1"])) == ["/path/coords/y: is required"])
        #expect(try issues("getLabels", parts(path: ["names": ".ab,cde"])) == [])
        #expect(
            try issues("getLabels", parts(path: ["names": ".ab,cdef"])) == [
                "/path/names/1: expected at most 3 characters, found 4"
            ])
    }

    @Test(
        "JSON bodies: nested pointers, formats, patterns, exclusive bounds, oneOf by discriminator, anyOf, allOf, readOnly, nullable"
    )
    func jsonBodies() throws {
        let good =
            #"{"items":[{"sku":"ABC-1","price":2.5}],"payment":{"kind":"card","number":"4111111111111111"},"email":null,"placed":"2026-12-01T10:00:00Z","gift":true,"extra":{"a":1}}"#
        #expect(try bodyIssues(good) == [])
        let bad =
            #"{"id":5,"items":[{"sku":"ABC-1","price":2.5},{"sku":"abc","price":0},{"sku":"XYZ-2"},{"sku":"XYZ-3","price":"9"}],"payment":{"kind":"bank"},"email":"nobody","placed":"2026-13-01T10:00:00Z","gift":3,"extra":{}}"#
        let found = try bodyIssues(bad)
        #expect(
            found == [
                "/body/id: is read-only and may not be sent",
                "/body/items/1/sku: expected text matching ^[A-Z]{3}-[0-9]+$, found string \"abc\"",
                "/body/items/1/price: expected more than 0, found 0",
                "/body/items/2/price: is required",
                "/body/items/3/price: expected number, found string \"9\"",
                "/body/payment/iban: is required",
                "/body/email: expected a string of format email, found string \"nobody\"",
                "/body/placed: expected a string of format date-time, found string \"2026-13-01T10:00:00Z\"",
                "/body/gift: matches none of the 2 schemas of anyOf",
                "/body/extra/a: is required",
            ], "\(found)")
        let cash = try bodyIssues(#"{"items":[],"payment":{"kind":"cash"}}"#)
        #expect(
            cash == [
                "/body/items: expected at least 1 items, found 0",
                "/body/payment/kind: expected one of bank, card, found string \"cash\"",
            ], "\(cash)")
        #expect(try bodyIssues(#"{"items":[1,"#).first?.hasPrefix("/body: is not valid JSON") == true)
        #expect(try bodyIssues("", contentType: nil) == ["/body: is required"])
        let (verdict, _) = try #require(Self.contracts["createOrder"]).validate(
            body: Array("x".utf8), contentType: "text/plain")
        #expect(
            verdict
                == .unsupported(
                    "text/plain",
                    accepted: ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]))
    }

    @Test("form and multipart bodies: fields typed by their schema, JSON parts, file parts")
    func formBodies() throws {
        #expect(try bodyIssues("sku=ABC&quantity=2", contentType: "application/x-www-form-urlencoded") == [])
        #expect(
            try bodyIssues("quantity=0", contentType: "application/x-www-form-urlencoded; charset=utf-8") == [
                "/body/sku: is required", "/body/quantity: expected at least 1, found 0",
            ])
        func multipart(_ parts: [(String, String?, String)]) -> String {
            parts.map { name, type, body in
                "--XyZ\r\nContent-Disposition: form-data; name=\"\(name)\""
                    + (name == "file" ? "; filename=\"a.png\"" : "") + "\r\n"
                    + (type.map { "Content-Type: \($0)\r\n" } ?? "") + "\r\n" + body + "\r\n"
            }.joined() + "--XyZ--\r\n"
        }
        let good = multipart([
            ("meta", "application/json", #"{"title":"Hi"}"#), ("file", "image/png", "\u{1}PNG"), ("note", nil, "ok"),
        ])
        #expect(try bodyIssues(good, contentType: "multipart/form-data; boundary=XyZ") == [])
        let bad = multipart([("meta", "application/json", #"{}"#), ("note", nil, "too long")])
        #expect(
            try bodyIssues(bad, contentType: "multipart/form-data; boundary=XyZ") == [
                "/body/file: is required", "/body/meta/title: is required",
                "/body/note: expected at most 5 characters, found 8",
            ])
        #expect(
            try bodyIssues("garbage", contentType: "multipart/form-data; boundary=XyZ") == [
                "/body: is not valid multipart/form-data: the boundary does not occur"
            ])
    }

    @Test("responses: the documented status and schema, writeOnly properties, undocumented statuses")
    func responses() throws {
        let contract = try #require(Self.contracts["getItem"])
        #expect(
            contract.validate(
                response: 200, contentType: "application/json", body: Array(#"{"id":1,"name":"pen"}"#.utf8)
            ).isEmpty)
        #expect(
            contract.validate(
                response: 200, contentType: "application/json", body: Array(#"{"id":"1","secret":"x"}"#.utf8)
            ).map(\.description) == [
                "/response/body/name: is required",
                "/response/body/id: expected integer, found string \"1\"",
                "/response/body/secret: is write-only and may not be returned",
            ])
        #expect(contract.validate(response: 404, contentType: nil, body: []).isEmpty)
        #expect(
            contract.validate(response: 500, contentType: nil, body: []).map(\.description) == [
                "/status: 500 is not a documented response"
            ])
        #expect(
            contract.validate(response: 200, contentType: "text/html", body: Array("<p>".utf8)).map(\.description) == [
                "/response/header/content-type: text/html is not documented for 200 (application/json)"
            ])
    }

    @Test("3.1 schemas: type lists, const, numeric exclusive bounds, prefixItems, boolean schemas; issues are bounded")
    func jsonSchema2020() throws {
        let spec = """
            openapi: 3.1.0
            info: {title: T, version: "1"}
            paths:
              /t:
                post:
                  operationId: t
                  requestBody:
                    content:
                      application/json:
                        schema:
                          type: object
                          properties:
                            n: {type: [integer, "null"], exclusiveMaximum: 10}
                            c: {const: fixed}
                            pair: {type: array, prefixItems: [{type: string}, {type: integer}], items: false}
                            many: {type: array, items: {type: integer}}
                  responses: {'200': {description: OK}}
            """
        let config = try loadConfig(
            "upstreams:\n  svc: {targets: [{url: \"http://127.0.0.1:9\"}]}\napis:\n  - {name: t, openapi: t.yaml, upstream: svc, validate: report}\n",
            files: ["t.yaml": spec])
        let contract = try #require(config.apis[0].routes[0].contract)
        func check(_ body: String) -> [String] {
            contract.validate(body: Array(body.utf8), contentType: "application/json").1.map(\.description)
        }
        #expect(check(#"{"n":null,"c":"fixed","pair":["a",1]}"#) == [])
        #expect(
            check(#"{"n":10,"c":"other","pair":["a",1,true]}"#) == [
                "/body/n: expected less than 10, found 10", "/body/c: expected \"fixed\", found string \"other\"",
                "/body/pair/2: is not allowed here",
            ])
        let huge = "{\"many\":[" + Array(repeating: "\"x\"", count: 10_000).joined(separator: ",") + "]}"
        #expect(check(huge).count == OperationContract.maximumIssues)
    }

    @Test(
        "a pattern with nested quantifiers is warned about and not checked; an upload of another media type is not read"
    )
    func hostilePatternsAndUploads() throws {
        let spec = """
            openapi: 3.1.0
            info: {title: T, version: "1"}
            paths:
              /files:
                put:
                  operationId: put
                  requestBody:
                    required: true
                    content:
                      application/octet-stream: {schema: {type: string, format: binary}}
                      application/json: {schema: {type: object, properties: {name: {type: string, pattern: '^(a+)+$'}}}}
                  responses: {'204': {description: Stored}}
            """
        let config = try loadConfig(
            "upstreams:\n  svc: {targets: [{url: \"http://127.0.0.1:9\"}]}\napis:\n  - {name: t, openapi: t.yaml, upstream: svc, validate: enforce}\n",
            files: ["t.yaml": spec])
        #expect(
            config.warnings.map(\.message) == [
                "API 't': pattern '^(a+)+$' nests quantifiers, which a hostile string can make take exponential time; it is not checked"
            ])
        let contract = try #require(config.apis[0].routes[0].contract)
        let hostile = "{\"name\":\"" + String(repeating: "a", count: 64) + "!\"}"
        #expect(contract.validate(body: Array(hostile.utf8), contentType: "application/json").1.isEmpty)
        #expect(contract.readsBody(contentType: "application/json"))
        #expect(!contract.readsBody(contentType: "application/octet-stream"))
        #expect(contract.validate(bodyHead: "application/octet-stream", hasBody: true).1.isEmpty)
        #expect(contract.validate(bodyHead: nil, hasBody: false).1.map(\.description) == ["/body: is required"])
        #expect(
            contract.validate(bodyHead: "text/csv", hasBody: true).0
                == .unsupported("text/csv", accepted: ["application/octet-stream", "application/json"]))
    }
}

/// Numbers from documents and generated values at the edges of `Double`.
@Suite("OpenAPI numbers at the edges")
struct OpenAPINumberEdgeTests {
    @Test("a bound of inf, nan or the whole Double range never traps the mock, and YAML's non-JSON numbers stay text")
    func edges() throws {
        let document = OpenAPIDocument(root: .object([]), version: "3.1.0", files: [])
        var sampler = SchemaSampler(document: document, random: SystemRandomNumberGenerator())
        for (low, high) in [
            ("-inf", "inf"), ("nan", "1"), ("-1e308", "1e308"), ("1e308", "1.7e308"), ("-1e400", "1e400"),
        ] {
            for type in ["number", "integer"] {
                let schema: JSONValue = .object([
                    ("type", .string(type)), ("minimum", .number(low)), ("maximum", .number(high)),
                ])
                guard case .number(let text) = sampler.sample(schema) else {
                    Issue.record("no number for \(low)…\(high)")
                    continue
                }
                #expect(JSONText.isNumber(text), "\(text)")
            }
        }
        let spec = """
            openapi: 3.1.0
            info: {title: T, version: "1"}
            paths:
              /t:
                get:
                  responses:
                    '200': {description: OK, content: {application/json: {schema: {type: object}, example: {a: .5, b: inf, c: nan, d: 08, e: 1.5e3, f: -0}}}}
            """
        let config = try loadConfig("apis:\n  - {name: t, openapi: t.yaml, upstream: mock}\n", files: ["t.yaml": spec])
        let body = try #require(config.apis[0].routes[0].mock?.body)
        #expect(String(decoding: body, as: UTF8.self) == #"{"a":".5","b":"inf","c":"nan","d":"08","e":1.5e3,"f":-0}"#)
        // What the portal and the mock send is JSON: the bundled document parses back.
        let text = try #require(config.apis[0].document?.root.jsonText)
        #expect(throws: Never.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("an int64 past Int64's ends is an issue, not a trap (2^63 once crashed the process)")
    func int64Bounds() throws {
        let root = try JSONValue.parse(
            yaml: """
                openapi: 3.1.0
                info: {title: t, version: '1'}
                paths:
                  /keys/{id}:
                    get:
                      parameters: [{name: id, in: path, required: true, schema: {type: integer, format: int64}}]
                      responses: {'200': {description: OK}}
                """)
        let (operations, problems) = OperationContract.all(in: OpenAPIDocument(root: root, version: "3.1.0", files: []))
        #expect(problems.isEmpty)
        let declared = try #require(operations.first)
        #expect((declared.path, declared.method) == ("/keys/{id}", "GET"))
        for (value, ok) in [
            ("9223372036854775807", true), ("-9223372036854775808", true), ("9223372036854775808", false),
            ("-9223372036854775809", false), ("1e19", false), ("9.3e18", false), ("1.5", false),
        ] {
            let found = declared.contract.validate(
                RequestParts(pathValues: ["id": value], query: [], header: { _ in [] }, cookie: { _ in nil }))
            #expect(found.isEmpty == ok, "\(value): \(found)")
        }
    }
}
