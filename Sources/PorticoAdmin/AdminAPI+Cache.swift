internal import Foundation
import Hummingbird
import PorticoConfig
import PorticoGateway
import PorticoStore

/// A cache purge as `POST /admin/cache/purge` and the store's notification to other nodes give it.
extension AdminAPI {
    /// Purges this node's cache; returns the entries removed.
    package static func applyPurge(_ purge: CacheStore.Purge, runtime: GatewayRuntime) -> Int {
        var purged = runtime.cache.store.purge(purge)
        // Composite endpoints' backend answers are keyed by upstream, not by public URL.
        if case .all = purge { purged += runtime.cache.backends.removeAll() }
        return purged
    }

    package static func purge(from body: [String: Any]) throws -> CacheStore.Purge {
        let given = ["url", "prefix", "tag", "all"].filter { body[$0] != nil }
        guard given.count == 1 else {
            throw GatewayError.badRequest(
                "Give exactly one of url, prefix, tag or all, for example {\"prefix\": \"/echo/\"}.")
        }
        if body["all"] != nil {
            guard body["all"] as? Bool == true else { throw GatewayError.badRequest("all must be true.") }
            return .all
        }
        if let tag = body["tag"] {
            guard let tag = tag as? String, !tag.isEmpty else {
                throw GatewayError.badRequest("tag must be a non-empty string.")
            }
            return .tag(tag)
        }
        let isPrefix = body["prefix"] != nil
        guard let text = (body["url"] ?? body["prefix"]) as? String, !text.isEmpty else {
            throw GatewayError.badRequest(
                "\(isPrefix ? "prefix" : "url") must be a path like /echo/a or a URL like http://host/echo/a.")
        }
        var host: String?
        var target = text
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            host = rest[..<slash].lowercased()
            target = slash == rest.endIndex ? "/" : String(rest[slash...])
        }
        guard target.hasPrefix("/") else {
            throw GatewayError.badRequest("'\(text)' is neither a path starting with / nor an http URL.")
        }
        return isPrefix ? .prefix(host: host, prefix: target) : .url(host: host, target: target)
    }
}
