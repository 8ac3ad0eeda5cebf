import Foundation
import Synchronization
import Yams

/// `apis`: each API, its OpenAPI document (read in parallel, cached by content) and the contracts compiled from it; route conflicts and version checks across APIs.
extension ConfigLoader.Reader {
    func readAPI(
        _ node: ConfigNode, index: Int, document: ImportedDocument?, hash: inout ContentHash,
        config: inout GatewayConfig
    ) -> APIConfig? {
        guard let fields = node.fields(allowed: ConfigLoader.apiKeys, context: "apis[\(index)]") else { return nil }
        guard let name = fields["name"]?.nonEmptyString(context: "name") else {
            if fields["name"] == nil { node.report("apis[\(index)] needs a name") }
            return nil
        }
        let context = "API '\(name)'"
        let split = fields["split"].flatMap { readSplit($0, fields: fields, context: context) }
        let hasEndpoints = fields["endpoints"] != nil
        guard
            let upstream = fields["upstream"]?.nonEmptyString(context: "\(context) upstream") ?? split?.sides.first?
                .upstream
                ?? (hasEndpoints && fields["upstream"] == nil ? "" : nil)
        else {
            if fields["upstream"] == nil && fields["split"] == nil {
                node.report("\(context) needs an upstream or a split")
            }
            return nil
        }
        if fields["upstream"] != nil && fields["split"] != nil {
            fields["split"]?.report("\(context) has both upstream and split; a split names its upstreams itself")
        }
        var api = APIConfig(name: name, upstream: upstream)
        api.split = split
        api.version = fields["version"]?.nonEmptyString(context: "\(context) version")
        if let node = fields["versioning"] {
            api.versioning = readVersioning(node, context: context) ?? api.versioning
        }
        if let value = fields["default"]?.bool(context: "\(context) default") { api.isDefaultVersion = value }
        api.lifecycle = readLifecycle(fields, context: context)
        if api.versioning.by != .path, api.version == nil {
            (fields["versioning"] ?? node).report(
                "\(context) is versioned by \(api.versioning.by.rawValue) but has no version")
        }
        if let baseNode = fields["base-path"], let base = baseNode.string(context: "base-path") {
            guard let normalized = PathTemplate.normalizePrefix(base) else {
                baseNode.report("base-path must start with '/' and hold no '{', '?' or '#', found '\(base)'")
                return nil
            }
            api.basePath = normalized
        }
        api.host = fields["host"]?.nonEmptyString(context: "\(context) host")?.lowercased()
        if let value = fields["strip-base-path"]?.bool(context: "strip-base-path") { api.stripBasePath = value }
        api.policies = readPolicies(fields, prefix: "", context: context)

        if let routesNode = fields["routes"] {
            for routeNode in routesNode.sequence(context: "\(context) routes") ?? [] {
                if let route = readRoute(routeNode, api: name) { api.routes.append(route) }
            }
        }
        if upstream.isEmpty, let routesNode = fields["routes"] ?? fields["openapi"] {
            routesNode.report(
                "\(context) has routes but no upstream for them; give the API an upstream (endpoints name their own)"
            )
        }
        if let specNode = fields["openapi"], let specPath = specNode.nonEmptyString(context: "openapi") {
            let absolute = ConfigLoader.absolute(specPath, relativeTo: folder)
            api.openAPIFile = absolute
            let imported =
                document?.writtenAs == specPath
                ? document! : importDocument(specNode, writtenAs: specPath, authMethods: config.auth)
            sink.append(imported.diagnostics)
            sink.appendWarnings(imported.warnings)
            hash.combine(imported.hash.hex.utf8)
            if let spec = imported.spec {
                for file in spec.document.files where !config.sourceFiles.contains(file) {
                    config.sourceFiles.append(file)
                }
                api.document = spec.document
                api.upstreamBasePath = spec.serverBasePath
                api.policies = api.policies.overridden(by: spec.policies)
                if fields["routes"] != nil {
                    fields["routes"]?.report(
                        "\(context) has both routes and an openapi document; the document's operations are used and routes must be left out"
                    )
                }
                api.routes = spec.routes
            }
        }
        if let endpointsNode = fields["endpoints"] {
            for endpointNode in endpointsNode.sequence(context: "\(context) endpoints") ?? [] {
                if let endpoint = readEndpoint(endpointNode, api: name) { api.routes.append(endpoint) }
            }
        }
        compileContracts(&api, at: fields["openapi"] ?? node, fields: fields, context: context)
        return api
    }

    /// Compiles the OpenAPI contract of every route that validates requests or responses;
    /// parts that cannot be checked (a bad pattern) are warned about at the `openapi:` line.
    func compileContracts(
        _ api: inout APIConfig, at node: ConfigNode, fields: [String: ConfigNode], context: String
    ) {
        guard let document = api.document else {
            let modes = [
                ("validate", api.policies.validation.validate),
                ("validate-responses", api.policies.validation.validateResponses),
            ]
            for (key, mode) in modes where (mode ?? .off) != .off {
                fields[key]?.report("\(context) sets \(key) but has no openapi document to validate against")
            }
            return
        }
        let compiler = SchemaCompiler(document: document)
        for index in api.routes.indices {
            let route = api.routes[index]
            guard let path = route.openAPIPath, let method = route.methods.first else { continue }
            let policies = api.policies.overridden(by: route.policies)
            let requests = policies.validation.validate ?? .off
            let responses = policies.validation.validateResponses ?? .off
            guard requests != .off || responses != .off else { continue }
            let operationMethod =
                OpenAPIImporter.methods.contains(method.lowercased()) ? method.lowercased() : method
            api.routes[index].contract = OperationContract.compile(
                path: path, method: operationMethod, document: document, compiler: compiler)
        }
        for problem in Set(compiler.problems).sorted() { node.warn("\(context): \(problem)") }
    }

    /// One OpenAPI document read on its own, with its own diagnostics, so documents can be read in parallel.
    struct ImportedDocument: Sendable {
        var writtenAs: String
        var spec: ImportedSpec?
        var diagnostics: [ConfigDiagnostic]
        var warnings: [ConfigDiagnostic]
        var hash: ContentHash
    }

    func importDocument(
        _ specNode: ConfigNode, writtenAs specPath: String, authMethods: [AuthMethodConfig]
    ) -> ImportedDocument {
        Self.importDocument(
            DocumentJob(
                index: 0, mark: specNode.node.mark, file: specNode.file, path: specPath, authMethods: authMethods),
            folder: folder, displayFolder: displayFolder, environment: environment)
    }

    static func importDocument(
        _ job: DocumentJob, folder: String, displayFolder: String, environment: EnvironmentInterpolation
    ) -> ImportedDocument {
        let key = DocumentCache.Key(
            path: ConfigLoader.absolute(job.path, relativeTo: folder), writtenAs: job.path, file: job.file,
            folder: folder,
            displayFolder: displayFolder, environment: environment.environment, authMethods: job.authMethods)
        if let cached = DocumentCache.lookup(key) { return cached }
        let document = importAfresh(job, folder: folder, displayFolder: displayFolder, environment: environment)
        DocumentCache.store(document, for: key)
        return document
    }

    /// What one parallel import needs: plain values only, no shared diagnostics sink.
    struct DocumentJob: Sendable {
        var index: Int
        /// Where the `openapi:` value is in the config; problems reading the file are reported there.
        var mark: Mark?
        var file: String
        var path: String
        /// The config's auth methods, onto which the document's security schemes map.
        var authMethods: [AuthMethodConfig]
    }

    private static func importAfresh(
        _ job: DocumentJob, folder: String, displayFolder: String, environment: EnvironmentInterpolation
    ) -> ImportedDocument {
        let local = DiagnosticSink()
        var localHash = ContentHash()
        let reader = ConfigLoader.Reader(
            sink: local, folder: folder, displayFolder: displayFolder, environment: environment)
        let reportAt = ConfigNode(
            node: .scalar(.init(job.path, .implicit, .plain, job.mark)), file: job.file, sink: local,
            environment: environment)
        let spec = OpenAPIImporter(sink: local, environment: environment, authMethods: job.authMethods)
            .importDocument(
                path: ConfigLoader.absolute(job.path, relativeTo: folder), writtenAs: job.path,
                displayName: reader.displayPath(job.path), reportAt: reportAt, hash: &localHash)
        return ImportedDocument(
            writtenAs: job.path, spec: spec, diagnostics: local.diagnostics, warnings: local.warnings,
            hash: localHash)
    }

    /// Reads every API's OpenAPI document on all cores; parsing and decoding them is most of a
    /// large config's load time. Problems are reported later, in file order, by `readAPI`.
    func importDocuments(of apiNodes: [ConfigNode], authMethods: [AuthMethodConfig]) -> [Int: ImportedDocument] {
        var jobs: [DocumentJob] = []
        for (index, apiNode) in apiNodes.enumerated() {
            guard let node = apiNode.node.value(forKey: "openapi"), case .scalar(let scalar) = node,
                case .success(let path) = environment.apply(scalar.string), !path.isEmpty
            else { continue }
            jobs.append(
                DocumentJob(index: index, mark: node.mark, file: apiNode.file, path: path, authMethods: authMethods)
            )
        }
        let work = jobs
        let (folder, displayFolder, environment) = (self.folder, self.displayFolder, self.environment)
        let results = Mutex<[Int: ImportedDocument]>([:])
        DispatchQueue.concurrentPerform(iterations: work.count) { job in
            let document = Self.importDocument(
                work[job], folder: folder, displayFolder: displayFolder, environment: environment)
            results.withLock { $0[work[job].index] = document }
        }
        return results.withLock { $0 }
    }

    /// Two routes that would answer the same host, method and path are a mistake; say where both are.
    func checkRouteConflicts(_ apis: [APIConfig], root: ConfigNode) {
        var seen: [String: String] = [:]
        for api in apis {
            let routes = api.servedRoutes
            for route in routes {
                let template = PathTemplate.join(api.basePath, route.path)
                let shape = PathTemplate.shape(of: template)
                // Versions named by header, query or media type share paths; they differ by version.
                let version = api.versioning.by == .path ? "" : " @\(api.version ?? "")"
                for method in route.methods.isEmpty ? ["*"] : route.methods {
                    let key = "\(api.host ?? "*") \(method) \(shape)\(version)"
                    if let first = seen[key] {
                        root.report(
                            "route \(method) \(template) of API '\(api.name)' is already defined by \(first)")
                    } else {
                        seen[key] = "API '\(api.name)'" + (route.location.isEmpty ? "" : " at \(route.location)")
                    }
                }
            }
        }
    }

    /// APIs that share a name and base path must agree on how the version is named, and have at most one default.
    func checkVersions(_ apis: [APIConfig], root: ConfigNode) {
        let groups = Dictionary(grouping: apis.filter { $0.versioning.by != .path }) {
            "\($0.host ?? "*") \($0.basePath)"
        }
        for (_, group) in groups where group.count > 1 || group.contains(where: \.isDefaultVersion) {
            if Set(group.map(\.versioning)).count > 1 {
                root.report(
                    "APIs under \(group[0].basePath) name their version in different ways; use one versioning for all"
                )
            }
            if group.filter(\.isDefaultVersion).count > 1 {
                root.report("APIs under \(group[0].basePath) have more than one default version")
            }
        }
        let versions = Set(apis.compactMap { api in api.version.map { "\(api.name)@\($0)" } })
        for api in apis {
            if let successor = api.lifecycle.successor, !versions.contains("\(api.name)@\(successor)") {
                root.report("API '\(api.name)' names successor version '\(successor)', which is not defined")
            }
        }
    }

    /// A path from the config as it should appear in messages: relative to where the operator ran from.
    func displayPath(_ written: String) -> String {
        written.hasPrefix("/") || displayFolder.isEmpty
            ? written : (displayFolder as NSString).appendingPathComponent(written)
    }
}
