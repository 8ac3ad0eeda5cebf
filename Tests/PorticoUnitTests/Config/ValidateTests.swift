import Foundation
import PorticoConfig
import PorticoTesting
import Testing

@Suite("Config validation names file, line and column")
struct ValidateTests {
    func diagnostics(
        _ yaml: String, files: [String: String] = [:], environment: [String: String] = [:]
    ) throws -> [ConfigDiagnostic] {
        try configDiagnostics(yaml, files: files, environment: environment)
    }

    let base = """
        upstreams:
          svc:
            targets:
              - url: http://127.0.0.1:9000
        """

    @Test("an unknown key")
    func unknownKey() throws {
        let found = try diagnostics(base + "\napis:\n  - name: a\n    upstream: svc\n    base-pth: /a\n")
        #expect(found.count == 1)
        #expect(
            found.first?.description.hasPrefix("gateway.yaml:8:5: unknown key 'base-pth' in apis[0]") == true,
            "\(found)")
    }

    @Test("a wrong type")
    func wrongType() throws {
        let found = try diagnostics("upstreams:\n  svc:\n    targets: http://x\n    max-connections: many\n")
        #expect(found.map(\.line) == [3, 4])
        #expect(
            found[0].description
                == "gateway.yaml:3:14: upstream 'svc' targets must be a list, found a scalar 'http://x'")
        #expect(found[1].message.contains("max-connections must be a whole number, found 'many'"))
    }

    @Test("a missing upstream")
    func missingUpstream() throws {
        let found = try diagnostics(base + "\napis:\n  - name: a\n    upstream: nope\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 7)
        #expect(found.first?.column == 15)
        #expect(found.first?.message == "API 'a' names upstream 'nope', which is not defined (defined: svc, mock)")
    }

    @Test("a missing OpenAPI file")
    func missingOpenAPIFile() throws {
        let found = try diagnostics(base + "\napis:\n  - name: a\n    upstream: svc\n    openapi: specs/none.yaml\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 8)
        #expect(found.first?.message.hasPrefix("cannot read file 'specs/none.yaml'") == true, "\(found)")
    }

    @Test("a bad duration")
    func badDuration() throws {
        let found = try diagnostics(base + "\n    timeout: 10 seconds\n")
        #expect(found.count == 1)
        #expect(
            found.first?.description
                == "gateway.yaml:5:14: timeout: bad duration '10 seconds' (write it like 250ms, 30s, 5m or 1h)")
    }

    @Test("a YAML syntax error")
    func syntaxError() throws {
        let found = try diagnostics("listen: 127.0.0.1:8080\nupstreams:\n  svc: [unclosed\n")
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("YAML syntax error") == true)
        #expect((found.first?.line ?? 0) >= 3)
    }

    @Test("an unset environment variable, and a default")
    func environment() throws {
        let yaml = "admin:\n  token: ${ADMIN_TOKEN}\n"
        let unset = try diagnostics(yaml)
        #expect(
            unset.first?.description
                == "gateway.yaml:2:10: environment variable ADMIN_TOKEN is not set (write ${ADMIN_TOKEN:-default} to give a default)"
        )
        #expect(try diagnostics(yaml, environment: ["ADMIN_TOKEN": "test-admin-token-0123456789abcdef"]).isEmpty)
        #expect(try diagnostics("admin:\n  token: ${ADMIN_TOKEN:-dev-admin-token-0123456789abcdef}\n").isEmpty)
    }

    @Test("several problems are all reported, in file order")
    func several() throws {
        let yaml = """
            listen: nowhere
            upstreams:
              svc:
                targets:
                  - url: ftp://x
            apis:
              - name: a
                upstream: svc
                routes:
                  - path: /items/{id
                    methods: [GET, fetch]
            """
        let lines = try diagnostics(yaml).map(\.line)
        #expect(lines == [1, 5, 10])
    }

    @Test("an OpenAPI document error points into the document")
    func brokenOpenAPI() throws {
        let spec = """
            openapi: 3.0.3
            info:
              title: Broken
              version: 1.0.0
            paths:
              /pets:
                get:
                  responses: 200
            """
        let found = try diagnostics(
            base + "\napis:\n  - name: a\n    upstream: svc\n    openapi: broken.yaml\n", files: ["broken.yaml": spec])
        #expect(found.count == 1)
        #expect(found.first?.file == "broken.yaml")
        #expect(found.first?.line == 8)
        #expect(found.first?.message.hasPrefix("invalid OpenAPI document") == true)
    }

    @Test("an unknown x-portico extension is named")
    func unknownExtension() throws {
        let spec = """
            openapi: 3.1.0
            info: {title: T, version: "1"}
            paths:
              /a:
                get:
                  x-portico-timeuot: 5s
                  responses:
                    "200": {description: ok}
            """
        let found = try diagnostics(
            base + "\napis:\n  - name: a\n    upstream: svc\n    openapi: spec.yaml\n", files: ["spec.yaml": spec])
        #expect(found.map(\.line) == [6])
        #expect(found.first?.message.hasPrefix("unknown extension 'x-portico-timeuot'") == true)
    }

    @Test("two routes for the same method and path conflict")
    func conflict() throws {
        let yaml =
            base + """

                apis:
                  - name: a
                    upstream: svc
                    routes:
                      - {path: "/x/{id}", methods: [GET]}
                      - {path: "/x/{key}", methods: [GET, POST]}
                """
        let found = try diagnostics(yaml)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("route GET /x/{key} of API 'a' is already defined") == true)
    }

    @Test("cache, server and health settings are checked")
    func observabilityAndCacheSettings() throws {
        let apis = "\napis:\n  - {name: h, base-path: /healthz, upstream: svc}\n"
        let clash = try diagnostics(base + apis)
        #expect(
            clash.count == 1 && clash.first?.message.contains("which the health endpoints answer") == true, "\(clash)")
        #expect(try diagnostics(base + "\nserver: {health-endpoints: false}" + apis).isEmpty)
        let bad = try diagnostics(
            base + """

                server: {log-level: loud}
                cache: {memory: 1KiB}
                apis:
                  - name: c
                    upstream: svc
                    cache: {default-ttl: soon, key: [nobody], statuses: [206], vary-on: ["bad header"]}
                """)
        let messages = bad.map(\.message)
        #expect(messages.count == 6, "\(messages)")
        #expect(messages.contains { $0.contains("server.log-level: unknown level 'loud'") })
        #expect(messages.contains { $0.contains("cache.memory must be at least 64KiB") })
        #expect(messages.contains { $0.contains("bad duration 'soon'") })
        #expect(messages.contains { $0.contains("unknown part 'nobody'") })
        #expect(messages.contains { $0.contains("206 cannot be stored") })
        #expect(messages.contains { $0.contains("'bad header' is not a valid header name") })
    }

    @Test("durations below their minimum are reported where they are written")
    func durationMinimums() throws {
        let found = try diagnostics(base + "\nserver: {watch-interval: 5ms}\nportal: {session-lifetime: 30s}\n")
        #expect(
            found.map(\.description).sorted() == [
                "gateway.yaml:5:26: server.watch-interval must be at least 10ms",
                "gateway.yaml:6:28: portal.session-lifetime must be at least 1m",
            ], "\(found)")
        #expect(try diagnostics(base + "\nserver: {watch-interval: 10ms}\nportal: {session-lifetime: 1m}\n").isEmpty)
    }

    @Test("durations and sizes parse")
    func units() {
        #expect(ConfigDuration(parsing: "250ms")?.milliseconds == 250)
        #expect(ConfigDuration(parsing: "1.5s")?.milliseconds == 1500)
        #expect(ConfigDuration(parsing: "2m")?.milliseconds == 120_000)
        #expect(ConfigDuration(parsing: "1h")?.milliseconds == 3_600_000)
        #expect(ConfigDuration(parsing: "30")?.milliseconds == 30_000)
        #expect(ConfigDuration(parsing: "-1s") == nil)
        #expect(ConfigDuration(parsing: "fast") == nil)
        #expect(ByteSize.parse("1MiB") == 1 << 20)
        #expect(ByteSize.parse("64KiB") == 65536)
        #expect(ByteSize.parse("10MB") == 10_000_000)
        #expect(ByteSize.parse("lots") == nil)
    }
}
