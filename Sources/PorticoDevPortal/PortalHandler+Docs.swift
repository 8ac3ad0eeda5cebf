internal import OpenAPIRuntime
import PorticoGateway
import PorticoOpenAPIServer

/// The docs: rendered once per config by `PortalCatalog` (in the background), answered here
/// through the generated types, so each page is checked against its schema before it is sent.
extension PortalHandler {
    func getCatalog(_ input: Operations.GetCatalog.Input) async throws -> Operations.GetCatalog.Output {
        .ok(.init(body: .json(try GeneratedAnswer.decode(await catalog.catalog.catalogJSON))))
    }

    func search(_ input: Operations.Search.Input) async throws -> Operations.Search.Output {
        .ok(.init(body: .json(try GeneratedAnswer.decode(await catalog.catalog.search(input.query.q ?? "")))))
    }

    func getAPIIndex(_ input: Operations.GetAPIIndex.Input) async throws -> Operations.GetAPIIndex.Output {
        let docs = try await docs(input.path.api, input.path.version)
        return .ok(.init(body: .json(try GeneratedAnswer.decode(docs.indexJSON))))
    }

    func getOperationPage(
        _ input: Operations.GetOperationPage.Input
    ) async throws
        -> Operations.GetOperationPage.Output
    {
        let docs = try await docs(input.path.api, input.path.version)
        guard let page = docs.operations[input.path.operation] else {
            throw GatewayError.notFound("No operation '\(input.path.operation)' in this API.")
        }
        return .ok(.init(body: .json(try GeneratedAnswer.decode(page))))
    }

    func getSchemaPage(_ input: Operations.GetSchemaPage.Input) async throws -> Operations.GetSchemaPage.Output {
        let docs = try await docs(input.path.api, input.path.version)
        guard let page = docs.schemas[input.path.schema] else {
            throw GatewayError.notFound("No schema '\(input.path.schema)' in this API.")
        }
        return .ok(.init(body: .json(try GeneratedAnswer.decode(page))))
    }

    /// One version's docs; `-` is the version of an unversioned API.
    private func docs(_ api: String, _ version: String) async throws -> SpecDocs {
        guard let docs = await catalog.catalog.docs[api]?[version == "-" ? "" : version] else {
            throw GatewayError.notFound("No API '\(api)' with version '\(version)'.")
        }
        return docs
    }
}
