import Foundation
import Hummingbird
import PorticoConfig
import PorticoGateway
import PorticoStore

/// `GET /admin/cache` (what the cache holds against its budget) and `POST /admin/cache/purge`.
extension AdminAPI {
    static func addCache(to router: Router<BasicRequestContext>, runtime: GatewayRuntime, store: any DataStore) {
        router.get("/admin/cache") { _, _ -> Response in
            let stats = runtime.cache.store.statistics
            return Response.json(
                "{\"entries\":\(stats.entries),\"bytes\":\(stats.bytes),\"budget\":\(stats.budget),"
                    + "\"stores\":\(stats.stores),\"evictions\":\(stats.evictions)}")
        }
        // One of {"url": "/echo/a?x=1"}, {"url": "http://host/echo/a"}, {"prefix": "/echo/"}, {"tag": "pets"}, {"all": true}.
        router.post("/admin/cache/purge") { request, context -> Response in
            try await withJSONBody(request, context) { body in
                let purge = try Self.purge(from: body)
                let purged = Self.applyPurge(purge, runtime: runtime)
                // On a shared store, every other node purges the same (it listens on the channel).
                guard let postgres = store as? PostgresStore else { return Response.json("{\"purged\":\(purged),\"nodes\":\"this\"}") }
                let payload = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                do {
                    try await postgres.notify(PostgresNotifications.cacheChannel, payload: payload)
                } catch PostgresNotificationError.payloadTooLarge {
                    throw GatewayError.badRequest("The purge is too long to send to the other nodes (at most \(PostgresStore.maximumNotificationBytes) bytes).")
                }
                return Response.json("{\"purged\":\(purged),\"nodes\":\"all\"}")
            }
        }
    }

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
            throw GatewayError.badRequest("Give exactly one of url, prefix, tag or all, for example {\"prefix\": \"/echo/\"}.")
        }
        if body["all"] != nil {
            guard body["all"] as? Bool == true else { throw GatewayError.badRequest("all must be true.") }
            return .all
        }
        if let tag = body["tag"] {
            guard let tag = tag as? String, !tag.isEmpty else { throw GatewayError.badRequest("tag must be a non-empty string.") }
            return .tag(tag)
        }
        let isPrefix = body["prefix"] != nil
        guard let text = (body["url"] ?? body["prefix"]) as? String, !text.isEmpty else {
            throw GatewayError.badRequest("\(isPrefix ? "prefix" : "url") must be a path like /echo/a or a URL like http://host/echo/a.")
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
