import Foundation
import OpenAPIKit
import OpenAPIKit30
import OpenAPIKitCompat
import Yams

/// What an OpenAPI document contributes to an API.
struct ImportedSpec: Sendable {
    /// One route per operation, in document order.
    var routes: [RouteConfig]
    /// The path of the first `servers` URL, which the upstream serves the API under.
    var serverBasePath: String
    /// The document-level `x-portico-*` settings.
    var policies: PolicyConfig
}

/// Turns an OpenAPI 3.0 or 3.1 document (YAML or JSON) into routes.
///
/// OpenAPIKit decodes and checks the document. The positioned YAML tree of the same file gives
/// line numbers for errors, the `x-portico-*` extensions and the examples, in file order.
struct OpenAPIImporter {
    let sink: DiagnosticSink
    let environment: EnvironmentInterpolation
    /// The config's auth methods, onto which the document's security schemes map.
    var authMethods: [AuthMethodConfig] = []

    func importDocument(
        path: String, writtenAs: String, displayName: String, reportAt: ConfigNode, hash: inout ContentHash
    ) -> ImportedSpec? {
        guard
            let root = ConfigLoader.parseYAML(
                file: path, writtenAs: writtenAs, displayName: displayName, sink: sink, environment: environment,
                hash: &hash, reportAt: reportAt)
        else { return nil }
        guard let rootFields = root.mapping(allowed: nil, context: "an OpenAPI document") else { return nil }
        let top = Dictionary(rootFields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let versionNode = top["openapi"], let version = versionNode.string(context: "openapi") else {
            root.report("not an OpenAPI document: the 'openapi' version key is missing")
            return nil
        }
        guard let document = decode(path: path, version: version, versionNode: versionNode, root: root) else { return nil }

        let reader = ConfigLoader.Reader(
            sink: sink,
            folder: (path as NSString).deletingLastPathComponent,
            displayFolder: (displayName as NSString).deletingLastPathComponent,
            environment: environment
        )
        let examples = MockExampleBuilder(root: root.node)
        var spec = ImportedSpec(
            routes: [],
            serverBasePath: serverBasePath(top["servers"]),
            policies: readExtensions(rootFields, reader: reader, context: "the document")
        )
        let security = SecurityImporter(components: top["components"], methods: authMethods)
        if let node = top["security"] { spec.policies.auth = security.requirement(node) }
        let rawPaths = top["paths"]?.mapping(allowed: nil, context: "paths") ?? []
        // Routes follow the file's order; OpenAPIKit's maps do not keep it when decoded from JSON.
        for rawPath in rawPaths {
            let template = OpenAPIKit.OpenAPI.Path(rawValue: rawPath.key)
            let rawPathItem: ConfigNode? = rawPath.value
            guard let pathItem = document.paths[template] else { continue }
            guard case .b(let item) = pathItem else {
                (rawPathItem ?? root).report("path \(template.rawValue) is a $ref; Portico needs its operations written inline")
                continue
            }
            let templateText = "/" + template.components.joined(separator: "/")
            if let problem = PathTemplate.problem(in: templateText) {
                (rawPathItem ?? root).report("path \(template.rawValue): \(problem)")
                continue
            }
            let rawOperations = rawPathItem?.mapping(allowed: nil, context: "path item") ?? []
            let endpoints = item.endpoints.sorted { lhs, rhs in
                let order = rawOperations.map { $0.key.uppercased() }
                return (order.firstIndex(of: lhs.method.rawValue.uppercased()) ?? .max)
                    < (order.firstIndex(of: rhs.method.rawValue.uppercased()) ?? .max)
            }
            for endpoint in endpoints {
                let method = endpoint.method.rawValue.uppercased()
                let rawOperation = rawOperations.first { $0.key.uppercased() == method }?.value
                let operationFields = rawOperation?.mapping(allowed: nil, context: "operation") ?? []
                var route = RouteConfig(
                    path: templateText,
                    methods: [method],
                    name: endpoint.operation.operationId ?? "\(method) \(template.rawValue)",
                    location: "\(displayName):\(rawOperation?.line ?? 0)"
                )
                route.policies = readExtensions(operationFields, reader: reader, context: "operation \(method) \(template.rawValue)")
                if let node = operationFields.first(where: { $0.key == "security" })?.value {
                    route.policies.auth = security.requirement(node)
                }
                if endpoint.operation.deprecated { route.lifecycle.deprecated = .distantPast }
                if let rawOperation { route.mock = examples.mockResponse(forOperation: rawOperation.node) }
                spec.routes.append(route)
            }
        }
        if spec.routes.isEmpty {
            (top["paths"] ?? root).report("the OpenAPI document has no operations")
        }
        return spec
    }

    /// Decodes with OpenAPIKit; a 3.0 document is converted to the 3.1 model.
    ///
    /// The parsed tree is decoded as JSON first: Foundation's JSON decoder is about ten times
    /// faster than decoding YAML text, which matters for reloads of large configs. JSON is
    /// stricter about scalar types (an unquoted `version: 1.0` is a number there), so when that
    /// fails the document is decoded again from its YAML text, which also gives the error.
    private func decode(path: String, version: String, versionNode: ConfigNode, root: ConfigNode) -> OpenAPIKit.OpenAPI.Document? {
        guard version.hasPrefix("3.0") || version.hasPrefix("3.1") || version.hasPrefix("3.2") else {
            versionNode.report("unsupported OpenAPI version '\(version)' (Portico reads 3.0, 3.1 and 3.2)")
            return nil
        }
        let isVersion30 = version.hasPrefix("3.0")
        // Portico reads the x-portico-* extensions from the positioned tree; decoding every
        // object's extensions as well would double OpenAPIKit's work.
        let userInfo = [OpenAPIKit.VendorExtensionsConfiguration.enabledKey: false]
        let json = Data(JSONValue(root.node).jsonText.utf8)
        let jsonDecoder = JSONDecoder()
        jsonDecoder.userInfo = userInfo
        if let document = try? Self.decode(isVersion30: isVersion30, with: { try jsonDecoder.decode($0, from: json) }) {
            return document
        }
        do {
            let text = FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) } ?? ""
            return try Self.decode(isVersion30: isVersion30, with: { try YAMLDecoder().decode($0, from: text, userInfo: userInfo) })
        } catch {
            let problem = OpenAPIKit.OpenAPI.Error(from: error)
            let node = Self.locate(problem.codingPath.map(\.stringValue), in: root) ?? root
            node.report("invalid OpenAPI document: \(problem.localizedDescription)")
            return nil
        }
    }

    private static func decode(
        isVersion30: Bool,
        with decoder: (any Decodable.Type) throws -> any Decodable
    ) throws -> OpenAPIKit.OpenAPI.Document? {
        if isVersion30 {
            return (try decoder(OpenAPIKit30.OpenAPI.Document.self) as? OpenAPIKit30.OpenAPI.Document)?.convert(to: .v3_1_1)
        }
        return try decoder(OpenAPIKit.OpenAPI.Document.self) as? OpenAPIKit.OpenAPI.Document
    }

    /// The deepest node along a decoding error's coding path, so the error gets a line number.
    static func locate(_ path: [String], in root: ConfigNode) -> ConfigNode? {
        var current = root.node
        for key in path {
            switch current {
            case .mapping(let mapping):
                guard let next = mapping.first(where: { $0.key.string == key })?.value else { return root.child(current) }
                current = next
            case .sequence(let sequence):
                guard let index = Int(key.replacingOccurrences(of: "Index ", with: "")), sequence.indices.contains(index)
                else { return root.child(current) }
                current = sequence[index]
            default:
                return root.child(current)
            }
        }
        return root.child(current)
    }

    /// Reads `x-portico-*` keys and reports the unknown ones, which are almost always typos.
    private func readExtensions(
        _ entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)],
        reader: ConfigLoader.Reader,
        context: String
    ) -> PolicyConfig {
        var fields: [String: ConfigNode] = [:]
        for entry in entries where entry.key.hasPrefix("x-portico-") {
            let key = String(entry.key.dropFirst("x-portico-".count))
            guard PolicyConfig.keys.contains(key) else {
                let known = PolicyConfig.keys.sorted().map { "x-portico-\($0)" }.joined(separator: ", ")
                entry.keyNode.report("unknown extension '\(entry.key)' on \(context) (known: \(known))")
                continue
            }
            fields[entry.key] = entry.value
        }
        return reader.readPolicies(fields, prefix: "x-portico-", context: context)
    }

    /// The path of the first server URL: `https://api.example.com/v3` gives `/v3`; variables take their defaults.
    private func serverBasePath(_ servers: ConfigNode?) -> String {
        guard case .sequence(let list)? = servers?.node, let server = list.first,
            var url = server.value(forKey: "url")?.string
        else { return "" }
        if case .mapping(let variables)? = server.value(forKey: "variables") {
            for (name, variable) in variables {
                if let key = name.string, let value = variable.value(forKey: "default")?.string {
                    url = url.replacingOccurrences(of: "{\(key)}", with: value)
                }
            }
        }
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            url = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? ""
        }
        return PathTemplate.normalizePrefix(url).map { $0 == "/" ? "" : $0 } ?? ""
    }
}
