import Foundation
import PorticoConfig
import PorticoTesting
import Testing

@Suite("OpenAPI import")
struct OpenAPIImportTests {
    @Test("every operation of the example document becomes a route")
    func exampleDocument() throws {
        let config = try ConfigLoader(environment: [
            "PORTICO_ADMIN_TOKEN": "test-admin-token-0123456789abcdef", "PORTICO_DEMO_KEY": "demo-key-0123456789abcdef",
        ]).load(file: packageRoot + "/config/gateway.yaml")
        let petstore = try #require(config.apis.first { $0.name == "petstore" })
        let operations = petstore.routes.map { "\($0.methods.joined()) \($0.path) \($0.name ?? "")" }
        #expect(
            operations == [
                "GET /pets listPets",
                "POST /pets createPet",
                "GET /pets/findByTags findPetsByTags",
                "GET /pets/{petId} getPet",
                "PUT /pets/{petId} updatePet",
                "DELETE /pets/{petId} deletePet",
                "POST /pets/{petId}/uploadImage uploadPetImage",
                "GET /store/inventory getInventory",
                "POST /store/orders placeOrder",
                "GET /store/orders/{orderId} getOrder",
                "DELETE /store/orders/{orderId} deleteOrder",
                "POST /users createUser",
                "GET /users/login loginUser",
                "GET /users/{username} getUser",
                "PUT /users/{username} updateUser",
                "DELETE /users/{username} deleteUser",
            ])
        #expect(petstore.upstreamBasePath == "/api/v1")
        #expect(petstore.policies.forwarding.responseHeaders?.set.first?.name == "X-API")
        #expect(petstore.routes[1].policies.forwarding.maxBodySize == 64 * 1024)
        #expect(petstore.routes.allSatisfy { $0.mock != nil })
    }

    @Test("the mock upstream answers every operation of the example document")
    func mockAnswers() async throws {
        let spec = try String(contentsOfFile: packageRoot + "/config/specs/petstore.yaml", encoding: .utf8)
        let yaml = """
            auth: {keys: {type: api-key}}
            consumers: [{name: demo, keys: [demo-key-0123456789abcdef]}]
            apis:
              - {name: petstore, base-path: /petstore, openapi: petstore.yaml, upstream: mock}
            """
        try await GatewayHarness.with(yaml: yaml, files: ["petstore.yaml": spec]) { gateway in
            try await withClient(baseURL: gateway.baseURL) { client in
                let pets = try await client.send(.GET, "/petstore/pets")
                #expect(pets.status == 200)
                #expect(pets.text.hasPrefix("[{\"id\":1,\"name\":\"Rex\""))
                #expect(pets.headers.first(name: "X-API") == "petstore")

                let pet = try await client.send(.GET, "/petstore/pets/1")
                #expect(
                    pet.text
                        == "{\"id\":1,\"name\":\"Rex\",\"category\":{\"id\":1,\"name\":\"Dogs\"},\"tags\":[\"good-boy\"],\"status\":\"available\"}"
                )

                let created = try await client.send(.POST, "/petstore/pets", body: .bytes(.init(string: "{}")))
                #expect(created.status == 201)
                let generated = try created.json()
                #expect(generated["id"] as? Int == 10)
                #expect(generated["name"] as? String == "Rex")

                let order = try await client.send(.GET, "/petstore/store/orders/3")
                #expect(try order.json()["shipDate"] as? String == "2026-01-01T00:00:00Z")

                let deleted = try await client.send(.DELETE, "/petstore/users/ada")
                #expect(deleted.status == 204)

                let login = try await client.send(.GET, "/petstore/users/login")
                #expect(login.text == "session-3c9f1a")
                #expect(login.headers.first(name: "Content-Type") == "text/plain")

                for path in ["/petstore/pets/findByTags", "/petstore/users/ada"] {
                    #expect(try await client.send(.GET, path).status == 200, "\(path)")
                }
                // The document's security: getInventory wants the api_key scheme, mapped onto `keys`.
                #expect(try await client.send(.GET, "/petstore/store/inventory").status == 401)
                let key = [("X-API-Key", "demo-key-0123456789abcdef")]
                #expect(try await client.send(.GET, "/petstore/store/inventory", headers: key).status == 200)
            }
        }
    }

    @Test("an OpenAPI 3.1 JSON document imports, with x-portico settings on the operation")
    func openAPI31JSON() throws {
        let config = try ConfigLoader().load(file: fixture("openapi31/gateway.yaml"))
        let api = try #require(config.apis.first)
        #expect(api.routes.map(\.path) == ["/widgets", "/widgets/{widgetId}"])
        #expect(api.routes.map(\.methods) == [["GET"], ["GET"]])
        #expect(api.routes[1].policies.forwarding.timeout == ConfigDuration(milliseconds: 1500))
        #expect(api.routes[1].policies.forwarding.requestHeaders?.remove == ["Cookie"])
        #expect(api.upstreamBasePath == "/v2")
        let mock = try #require(api.routes[0].mock)
        #expect(String(decoding: mock.body, as: UTF8.self) == "[{\"id\":\"w-1\",\"size\":3}]")
    }
}
