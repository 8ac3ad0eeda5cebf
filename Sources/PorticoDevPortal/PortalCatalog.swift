internal import Foundation
import PorticoConfig
import PorticoGateway

/// Every API of one config as the portal shows it: the catalog, each version's docs, and the search.
///
/// Built once per config on a background task as soon as the snapshot is compiled (rendering
/// large documents takes time a reload must not wait for); a portal request that comes first
/// waits for it.
struct PortalCatalog: Sendable {
    let catalogJSON: String
    /// Docs by `name` and version (`""` for an API without versions).
    let docs: [String: [String: SpecDocs]]

    init(config: GatewayConfig) {
        var docs: [String: [String: SpecDocs]] = [:]
        var order: [String] = []
        for api in config.apis {
            // The loader's bundled tree: the files its `$ref`s name are in it, and nothing is parsed twice.
            let document = api.document
            if docs[api.name] == nil { order.append(api.name) }
            docs[api.name, default: [:]][api.version ?? ""] = SpecDocs(api: api, config: config, document: document)
        }
        self.docs = docs
        var entries: [JSONValue] = []
        for name in order {
            let versions = config.apis.filter { $0.name == name }
            let first = docs[name]?[versions[0].version ?? ""]
            // The newest undeprecated version describes the API; the config's order lists the versions.
            let lead =
                versions.last { $0.lifecycle.deprecated == nil }.flatMap { docs[name]?[$0.version ?? ""] } ?? first
            var tags: [String] = []
            for version in versions {
                for tag in docs[name]?[version.version ?? ""]?.tags ?? [] where !tags.contains(tag) { tags.append(tag) }
            }
            let versionList: [JSONValue] = versions.map { api in
                let spec = docs[name]?[api.version ?? ""]
                var fields: [(String, JSONValue)] = [
                    ("version", .string(api.version ?? "")), ("default", .bool(api.isDefaultVersion)),
                    ("base_path", .string(api.basePath)), ("operations", .number(String(spec?.operationCount ?? 0))),
                    ("has_document", .bool(api.openAPIFile != nil)),
                ]
                if let deprecated = api.lifecycle.deprecated {
                    fields.append(
                        ("deprecated", deprecated == .distantPast ? .bool(true) : .string(SpecDocs.day(deprecated))))
                }
                if let sunset = api.lifecycle.sunset { fields.append(("sunset", .string(SpecDocs.day(sunset)))) }
                if let successor = api.lifecycle.successor { fields.append(("successor", .string(successor))) }
                return .object(fields)
            }
            entries.append(
                .object([
                    ("name", .string(name)), ("title", .string(lead?.title ?? name)),
                    ("description", .string(lead?.description ?? "")), ("tags", .array(tags.map(JSONValue.string))),
                    ("versions", .array(versionList)),
                ]))
        }
        catalogJSON = JSONValue.array(entries).jsonText
    }

    /// Ranked hits for `query` across every API: `[{kind, api, version, target, title, detail}]`.
    ///
    /// Each word must appear in a hit; words in the title count more than words in the text.
    func search(_ query: String, limit: Int = 50) -> String {
        let words = query.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !words.isEmpty else { return "[]" }
        var hits: [(score: Int, api: String, version: String, entry: SpecDocs.SearchEntry)] = []
        for (api, versions) in docs {
            for (version, spec) in versions {
                for entry in spec.searchEntries {
                    var score = 0
                    for word in words {
                        if entry.titleText.contains(word) {
                            score += entry.titleText == word ? 12 : 6
                        } else if entry.bodyText.contains(word) {
                            score += 2
                        } else {
                            score = 0
                            break
                        }
                    }
                    guard score > 0 else { continue }
                    if entry.kind == .operation { score += 1 }
                    hits.append((score, api, version, entry))
                }
            }
        }
        hits.sort { lhs, rhs in
            lhs.score != rhs.score
                ? lhs.score > rhs.score
                : (lhs.api, lhs.version, lhs.entry.title) < (rhs.api, rhs.version, rhs.entry.title)
        }
        let list: [JSONValue] = hits.prefix(limit).map { hit in
            .object([
                ("kind", .string(hit.entry.kind.rawValue)), ("api", .string(hit.api)),
                ("version", .string(hit.version)),
                ("target", .string(hit.entry.target)), ("title", .string(hit.entry.title)),
                ("detail", .string(hit.entry.detail)),
            ])
        }
        return JSONValue.array(list).jsonText
    }
}

/// The catalog of one snapshot, built in the background and awaited by the first portal request.
final class PortalCatalogLoader: Sendable {
    private let task: Task<PortalCatalog, Never>

    init(config: GatewayConfig) {
        task = Task.detached(priority: .utility) { PortalCatalog(config: config) }
    }

    var catalog: PortalCatalog {
        get async { await task.value }
    }
}
