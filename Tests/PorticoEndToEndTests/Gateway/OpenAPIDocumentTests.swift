import Foundation
import PorticoConfig
import PorticoTesting
import Testing

/// Documents as large providers publish them: split over files, with parameters inside path
/// segments, and sometimes with no operations at all.
@Suite("OpenAPI documents over several files")
struct OpenAPIDocumentTests {
    static let upstreams = """
        upstreams:
          svc: {targets: [{url: "http://127.0.0.1:9"}]}
        """

    /// A root, a path file, two model files that refer to each other, and shared parameters.
    static let split: [String: String] = [
        "api/openapi.yaml": """
        openapi: 3.1.0
        info: {title: Droplets, version: "2"}
        paths:
          /droplets:
            $ref: 'paths/droplets.yaml'
          /droplets/{id}.json:
            get:
              operationId: getDroplet
              parameters:
                - $ref: 'parameters.yaml#/DropletId'
              responses:
                '200':
                  description: One droplet
                  content:
                    application/json:
                      schema: {$ref: 'models/droplet.yaml'}
        components:
          schemas:
            Error: {type: object, properties: {message: {type: string}}}
        """,
        "api/paths/droplets.yaml": """
        get:
          operationId: listDroplets
          x-portico-timeout: 3s
          parameters:
            - $ref: '../parameters.yaml#/PerPage'
          responses:
            '200':
              description: Droplets
              content:
                application/json:
                  schema:
                    type: array
                    items: {$ref: '../models/droplet.yaml'}
            default:
              description: Error
              content:
                application/json:
                  schema: {$ref: '../openapi.yaml#/components/schemas/Error'}
        """,
        "api/parameters.yaml": """
        PerPage: {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 200}}
        DropletId: {name: id, in: path, required: true, schema: {type: integer}}
        """,
        "api/models/droplet.yaml": """
        type: object
        required: [id, region]
        properties:
          id: {type: integer, example: 3164444}
          name: {type: string, example: example.com}
          region: {$ref: 'region.yaml'}
        """,
        "api/models/region.yaml": """
        type: object
        properties:
          slug: {type: string, example: nyc3}
          droplets:
            type: array
            items: {$ref: 'droplet.yaml'}
        """,
    ]

    static let splitConfig =
        upstreams + """

            apis:
              - {name: droplets, base-path: /v2, openapi: api/openapi.yaml, upstream: svc}
            """

    @Test("refs across files load: path items, parameters and schemas, with a cycle between two files")
    func splitDocument() throws {
        let config = try loadConfig(Self.splitConfig, files: Self.split)
        let api = try #require(config.apis.first)
        #expect(
            api.routes.map { "\($0.methods[0]) \($0.path) \($0.name ?? "")" } == [
                "GET /droplets listDroplets", "GET /droplets/{id}.json getDroplet",
            ])
        #expect(api.routes[0].policies.forwarding.timeout == ConfigDuration(milliseconds: 3000))
        #expect(api.routes[0].location.hasSuffix("api/paths/droplets.yaml:1"))
        // Every file is watched for hot reload.
        #expect(
            Set(config.sourceFiles) == [
                "gateway.yaml", "api/openapi.yaml", "api/paths/droplets.yaml", "api/parameters.yaml",
                "api/models/droplet.yaml", "api/models/region.yaml",
            ])
        // The bundle: external schemas added once under their file's name, every $ref local.
        let document = try #require(api.document)
        #expect(document.schemas.keys.sorted() == ["Error", "droplet", "region"])
        #expect(
            document.schemas["region"]?["properties"]?["droplets"]?["items"]?["$ref"]?.string
                == "#/components/schemas/droplet")
        #expect(document.root.jsonText.contains(".yaml") == false)
        let list = try #require(document.operation(path: "/droplets", method: "get"))
        #expect(list.operation["parameters"]?.items.first?["name"]?.string == "per_page")
        #expect(
            list.operation["responses"]?["default"]?["content"]?["application/json"]?["schema"]?["$ref"]?.string
                == "#/components/schemas/Error")
        // The mock's example is built through the files and stops at the cycle's depth.
        let mock = try #require(api.routes[1].mock)
        let body = String(decoding: mock.body, as: UTF8.self)
        #expect(
            body.hasPrefix(
                "{\"id\":3164444,\"name\":\"example.com\",\"region\":{\"slug\":\"nyc3\",\"droplets\":[{\"id\":3164444"))
    }

    @Test(
        "a problem in a referenced file names that file and line; a missing file, a bad pointer and a way out of the folder are refused"
    )
    func splitProblems() throws {
        var files = Self.split
        files["api/paths/droplets.yaml"] = files["api/paths/droplets.yaml"]!.replacingOccurrences(
            of: "x-portico-timeout: 3s", with: "x-portico-timeot: 3s")
        var found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.count == 1)
        #expect(found.first?.file == "droplets.yaml")
        #expect(found.first?.line == 3)
        #expect(found.first?.message.hasPrefix("unknown extension 'x-portico-timeot'") == true)

        files = Self.split
        files["api/models/region.yaml"] = nil
        found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.first?.file == "droplet.yaml", "\(found)")
        #expect(found.first?.line == 6)
        #expect(found.first?.message.hasPrefix("cannot read file 'region.yaml'") == true, "\(found)")

        files = Self.split
        files["api/parameters.yaml"] = "PerPage: {name: per_page, in: query}\n"
        found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.map(\.message).contains { $0.contains("parameters.yaml has nothing at #/DropletId") }, "\(found)")

        files = Self.split
        files["api/models/droplet.yaml"] = "type: object\nproperties:\n  secret: {$ref: '../../gateway.yaml'}\n"
        found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.map(\.message).contains { $0.contains("leaves the document's folder") }, "\(found)")

        files = Self.split
        files["api/models/droplet.yaml"] =
            "type: object\nproperties:\n  remote: {$ref: 'https://example.com/schema.json'}\n"
        found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.map(\.message).contains { $0.contains("remote $ref") }, "\(found)")

        // A link inside the folder to a file outside it.
        let outside = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "type: object\n".write(toFile: outside + "/secret.yaml", atomically: true, encoding: .utf8)
        let folder = try writeConfigFolder(Self.splitConfig, files: Self.split)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "type: object\nproperties:\n  s: {$ref: 'link.yaml'}\n".write(
            toFile: folder + "/api/models/region.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/api/models/link.yaml", withDestinationPath: outside + "/secret.yaml")
        #expect(throws: ConfigError.self) { try ConfigLoader().load(file: folder + "/gateway.yaml") }
        do {
            _ = try ConfigLoader().load(file: folder + "/gateway.yaml")
        } catch {
            #expect(error.diagnostics.contains { $0.message.contains("leaves the document's folder") }, "\(error)")
        }

        // Path items that refer to each other in a loop.
        files = Self.split
        files["api/paths/droplets.yaml"] = "$ref: 'other.yaml'\n"
        files["api/paths/other.yaml"] = "$ref: 'droplets.yaml'\n"
        found = try configDiagnostics(Self.splitConfig, files: files)
        #expect(found.map(\.message).contains { $0.contains("circular $ref") }, "\(found)")
    }

    @Test("a document with no operations loads with a warning and serves nothing")
    func noOperations() async throws {
        let spec = """
            openapi: 3.1.0
            info: {title: Events, version: "1"}
            webhooks:
              newPet:
                post:
                  requestBody: {content: {application/json: {schema: {type: object}}}}
                  responses: {'200': {description: OK}}
            """
        let yaml =
            Self.upstreams + "\napis:\n  - {name: events, base-path: /events, openapi: events.yaml, upstream: svc}\n"
        let config = try loadConfig(yaml, files: ["events.yaml": spec])
        #expect(config.apis.first?.routes.isEmpty == true)
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.message.contains("only webhooks") == true)
        #expect(config.warnings.first?.line == 3)
        try await GatewayHarness.with(yaml: yaml, files: ["events.yaml": spec]) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let answer = try await client.send(.GET, "/events/anything")
                #expect(answer.status == 404)
            }
        }
    }

    @Test("OpenAPI 3.2: additionalOperations and the query method become routes")
    func openAPI32() throws {
        let spec = """
            openapi: 3.2.0
            info: {title: Files, version: "1"}
            paths:
              /files/{name}.{ext}:
                query:
                  operationId: searchFile
                  responses: {'200': {description: OK}}
                additionalOperations:
                  COPY:
                    operationId: copyFile
                    responses: {'201': {description: Copied}}
            """
        let config = try loadConfig(
            Self.upstreams + "\napis:\n  - {name: f, openapi: f.yaml, upstream: svc}\n", files: ["f.yaml": spec])
        #expect(
            config.apis.first?.routes.map { "\($0.methods[0]) \($0.path)" } == [
                "QUERY /files/{name}.{ext}", "COPY /files/{name}.{ext}",
            ])
        #expect(config.apis.first?.routes.last?.mock?.status == 201)
    }

    @Test("an edit to a referenced file reloads the config")
    func referencedFileReloads() async throws {
        let yaml = """
            server: {access-log: false, watch-interval: 50ms}
            apis:
              - {name: droplets, base-path: /v2, openapi: api/openapi.yaml, upstream: mock}
            """
        try await GatewayHarness.with(yaml: yaml, files: Self.split) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let first = try await client.send(.GET, "/v2/droplets/7.json")
                #expect(first.text.contains("nyc3"))
                let model = gateway.folder + "/api/models/region.yaml"
                let edited = try String(contentsOfFile: model, encoding: .utf8).replacingOccurrences(
                    of: "nyc3", with: "ams3")
                try edited.write(toFile: model, atomically: true, encoding: .utf8)
                var text = ""
                let written = ContinuousClock.now
                while ContinuousClock.now - written < .seconds(15) {
                    text = try await client.send(.GET, "/v2/droplets/7.json").text
                    if text.contains("ams3") { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(text.contains("ams3"))
            }
        }
    }
}
