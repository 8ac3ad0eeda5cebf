import Foundation
import Yams

/// What an OpenAPI document contributes to an API.
struct ImportedSpec: Sendable {
    /// One route per operation, in document order.
    var routes: [RouteConfig]
    /// The path of the first `servers` URL, which the upstream serves the API under.
    var serverBasePath: String
    /// The document-level `x-portico-*` settings.
    var policies: PolicyConfig
    /// The document with the files it refers to bundled in.
    var document: OpenAPIDocument
}

/// Turns an OpenAPI 3.0, 3.1 or 3.2 document (YAML or JSON, over one file or several) into routes.
///
/// Portico reads the document's positioned tree itself rather than decoding it into a full
/// model: it needs the paths, the operations and their `x-portico-*` settings, and checks the
/// parts it uses (so a problem names its file and line), while everything else in a large,
/// real-world document (vendor keys, unusual but valid shapes) passes through to the portal.
struct OpenAPIImporter {
    let sink: DiagnosticSink
    let environment: EnvironmentInterpolation
    /// The config's auth methods, onto which the document's security schemes map.
    var authMethods: [AuthMethodConfig] = []

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace", "query"]

    func importDocument(
        path: String, writtenAs: String, displayName: String, reportAt: ConfigNode, hash: inout ContentHash
    ) -> ImportedSpec? {
        let files = SpecFiles(rootPath: path, rootDisplay: displayName, sink: sink, environment: environment)
        defer { hash.combine(files.hash.hex.utf8) }
        guard let root = files.root(writtenAs: writtenAs, reportAt: reportAt) else { return nil }
        guard let rootFields = root.mapping(allowed: nil, context: "an OpenAPI document") else { return nil }
        let top = Dictionary(rootFields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let versionNode = top["openapi"], let version = versionNode.string(context: "openapi") else {
            if top["swagger"] != nil {
                root.report(
                    "a Swagger 2.0 document; Portico reads OpenAPI 3.0, 3.1 and 3.2 (convert it with swagger2openapi)")
            } else {
                root.report("not an OpenAPI document: the 'openapi' version key is missing")
            }
            return nil
        }
        guard version.hasPrefix("3.0") || version.hasPrefix("3.1") || version.hasPrefix("3.2") else {
            versionNode.report("unsupported OpenAPI version '\(version)' (Portico reads 3.0, 3.1 and 3.2)")
            return nil
        }
        if let info = top["info"] { _ = info.mapping(allowed: nil, context: "invalid OpenAPI document: info") }

        let reader = ConfigLoader.Reader(
            sink: sink,
            folder: (path as NSString).deletingLastPathComponent,
            displayFolder: (displayName as NSString).deletingLastPathComponent,
            environment: environment
        )
        var bundler = SpecBundler(files: files)
        let bundled = bundler.bundle(root)
        var spec = ImportedSpec(
            routes: [],
            serverBasePath: serverBasePath(top["servers"]),
            policies: readExtensions(rootFields, reader: reader, context: "the document"),
            document: OpenAPIDocument(root: bundled, version: version, files: [])
        )
        let security = SecurityImporter(components: top["components"], methods: authMethods) { node in
            follow(node, from: path, files: files)?.node
        }
        if let node = top["security"] { spec.policies.access.auth = security.requirement(node) }
        let document = spec.document
        let examples = MockExampleBuilder(document: document)

        let rawPaths =
            top["paths"].flatMap {
                $0.isNull ? nil : $0.mapping(allowed: nil, context: "invalid OpenAPI document: paths")
            } ?? []
        for rawPath in rawPaths {
            let template = rawPath.key
            guard template.hasPrefix("/") else {
                rawPath.keyNode.report("invalid OpenAPI document: path '\(template)' must start with '/'")
                continue
            }
            let templateText = "/" + template.split(separator: "/").joined(separator: "/")
            if let problem = PathTemplate.problem(in: templateText) {
                rawPath.keyNode.report("path \(template): \(problem)")
                continue
            }
            guard let item = follow(rawPath.value, from: path, files: files),
                let entries = item.node.mapping(
                    allowed: nil, context: "invalid OpenAPI document: path item \(template)")
            else { continue }
            var operations = entries.filter { Self.methods.contains($0.key) }
            for entry in entries
            where Self.methods.contains(entry.key.lowercased()) && entry.key != entry.key.lowercased() {
                entry.keyNode.report("invalid OpenAPI document: method '\(entry.key)' must be written in lower case")
            }
            // 3.2: other methods under additionalOperations, written as sent (`COPY`).
            if let additional = entries.first(where: { $0.key == "additionalOperations" })?.value,
                let extra = additional.mapping(allowed: nil, context: "additionalOperations")
            {
                for entry in extra where !HTTPMethodName.isValid(entry.key) {
                    entry.keyNode.report("'\(entry.key)' is not an HTTP method")
                }
                operations += extra.filter { HTTPMethodName.isValid($0.key) }
            }
            if entries.contains(where: { $0.key == "parameters" }) {
                checkParameters(entries.first { $0.key == "parameters" }!.value, context: "path item \(template)")
            }
            for entry in operations {
                let method = entry.key.uppercased()
                let context = "operation \(method) \(template)"
                guard
                    let operationFields = entry.value.mapping(
                        allowed: nil, context: "invalid OpenAPI document: \(context)")
                else { continue }
                let fields = Dictionary(
                    operationFields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                if !checkOperation(fields, context: context) { continue }
                var name = "\(method) \(template)"
                if let idNode = fields["operationId"], let id = idNode.nonEmptyString(context: "operationId") {
                    name = id
                }
                var route = RouteConfig(
                    path: templateText, methods: [method], name: name,
                    location: "\(entry.keyNode.file):\(entry.keyNode.line)")
                route.policies = readExtensions(operationFields, reader: reader, context: context)
                if let node = fields["security"] { route.policies.access.auth = security.requirement(node) }
                if fields["deprecated"]?.bool(context: "deprecated") == true {
                    route.lifecycle.deprecated = .distantPast
                }
                route.openAPIPath = template
                if let found = document.operation(path: template, method: entry.key) {
                    route.mockOperation = examples.mockOperation(for: found.operation)
                }
                spec.routes.append(route)
            }
        }
        if spec.routes.isEmpty {
            let what = top["webhooks"] != nil ? "only webhooks" : "no operations"
            let at =
                rootFields.first { $0.key == "paths" }?.keyNode ?? rootFields.first { $0.key == "webhooks" }?.keyNode
                ?? root
            at.warn("the OpenAPI document has \(what); its API serves no route until the document has operations")
        }
        spec.document = OpenAPIDocument(root: bundled, version: version, files: files.order)
        return spec
    }

    /// A node, or what its `$ref` points to when it is one (a chain is followed, a loop reported).
    private func follow(_ node: ConfigNode, from file: String, files: SpecFiles) -> (file: String, node: ConfigNode)? {
        var current = (file: file, node: node)
        var seen: Set<SpecReference> = []
        while case .mapping = current.node.node, let reference = current.node.node.value(forKey: "$ref") {
            guard let text = reference.string else {
                current.node.child(reference).report("$ref must be a string")
                return nil
            }
            guard let target = files.resolve(text, from: current.file, at: current.node.child(reference)) else {
                return nil
            }
            guard seen.insert(target.reference).inserted else {
                current.node.report("circular $ref '\(text)'")
                return nil
            }
            current = (target.file, target.node)
        }
        return current
    }

    /// Checks the parts of an operation the gateway reads; false when it cannot be used.
    private func checkOperation(_ fields: [String: ConfigNode], context: String) -> Bool {
        var usable = true
        if let responses = fields["responses"] {
            if responses.mapping(allowed: nil, context: "invalid OpenAPI document: responses of \(context)") == nil {
                usable = false
            }
        }
        if let parameters = fields["parameters"], !checkParameters(parameters, context: context) { usable = false }
        if let body = fields["requestBody"], case .scalar = body.node {
            body.report("invalid OpenAPI document: requestBody of \(context) must be a mapping, found \(body.kind)")
            usable = false
        }
        return usable
    }

    @discardableResult
    private func checkParameters(_ node: ConfigNode, context: String) -> Bool {
        guard let items = node.sequence(context: "invalid OpenAPI document: parameters of \(context)") else {
            return false
        }
        var usable = true
        for item in items {
            guard case .mapping = item.node else {
                item.report(
                    "invalid OpenAPI document: each parameter of \(context) must be a mapping, found \(item.kind)")
                usable = false
                continue
            }
            guard item.node.value(forKey: "$ref") == nil else { continue }
            let name = item.node.value(forKey: "name")?.string
            let location = item.node.value(forKey: "in")?.string
            if name == nil || location == nil {
                item.report("invalid OpenAPI document: a parameter of \(context) needs 'name' and 'in'")
                usable = false
            } else if let location, !["path", "query", "header", "cookie", "querystring"].contains(location) {
                item.report(
                    "invalid OpenAPI document: parameter '\(name ?? "")' of \(context) has unknown 'in: \(location)' (path, query, header, cookie or querystring)"
                )
                usable = false
            }
        }
        return usable
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
