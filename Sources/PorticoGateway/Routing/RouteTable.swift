import PorticoConfig

/// The compiled route table: host, then a path trie, then the method.
///
/// Built once per config snapshot. At each segment a literal child is tried first, then segment
/// patterns (`{name}.json`, most literal text first), then a `{param}` child, and all before a
/// `/**` rest, so the route with the longest literal prefix wins.
package struct RouteTable: Sendable {
    /// The result of a lookup.
    package enum Match: Sendable {
        case route(CompiledRoute)
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [String])
        /// The path exists in other versions than the one asked for.
        case unknownVersion(requested: String, available: [String])
        case notFound
    }

    final class Node: @unchecked Sendable {
        // Mutated only while the table is built, then read-only.
        var literals: [Substring: Node] = [:]
        /// Segments with parameters inside them, in the order they are tried.
        var patterns: [(pattern: SegmentPattern, node: Node)] = []
        var parameter: Node?
        var routes: [CompiledRoute] = []
        var restRoutes: [CompiledRoute] = []
    }

    private let exactHosts: [String: Node]
    private let wildcardHosts: [(suffix: String, node: Node)]
    private let anyHost: Node
    /// How many routes the table holds.
    package let count: Int

    /// Builds the table. Routes must already be free of conflicts (the config loader checks that).
    package init(routes: [(host: String?, route: CompiledRoute)]) {
        var exact: [String: Node] = [:]
        var wildcard: [(String, Node)] = []
        let any = Node()
        for (host, route) in routes {
            let root: Node
            if let host, host.hasPrefix("*.") {
                let suffix = String(host.dropFirst())
                if let existing = wildcard.first(where: { $0.0 == suffix }) {
                    root = existing.1
                } else {
                    root = Node()
                    wildcard.append((suffix, root))
                }
            } else if let host {
                root = exact[host] ?? Node()
                exact[host] = root
            } else {
                root = any
            }
            Self.insert(route, into: root)
        }
        self.exactHosts = exact
        self.wildcardHosts = wildcard.sorted { $0.0.count > $1.0.count }
        self.anyHost = any
        self.count = routes.count
    }

    private static func insert(_ route: CompiledRoute, into root: Node) {
        var node = root
        for segment in PathTemplate.segments(of: route.template) {
            switch segment {
            case .literal(let text):
                let key = Substring(text)
                if let child = node.literals[key] {
                    node = child
                } else {
                    let child = Node()
                    node.literals[key] = child
                    node = child
                }
            case .parameter:
                if node.parameter == nil { node.parameter = Node() }
                node = node.parameter!
            case .pattern(let pattern):
                if let existing = node.patterns.first(where: { $0.pattern.shape == pattern.shape }) {
                    node = existing.node
                } else {
                    let child = Node()
                    // Stable: among patterns with as much literal text, the first declared is tried first.
                    let position =
                        node.patterns.firstIndex { $0.pattern.literalLength < pattern.literalLength }
                        ?? node.patterns.count
                    node.patterns.insert((pattern, child), at: position)
                    node = child
                }
            case .rest:
                node.restRoutes.append(route)
                return
            }
        }
        node.routes.append(route)
    }

    /// Finds the route for a request. `host` may carry a port, which is ignored. `version` reads
    /// the version a request names for a route's versioning (nil when it names none).
    package func match(
        host: String?, method: String, path: String, version: (CompiledRoute) -> String? = { _ in nil }
    ) -> Match {
        var segments: [Substring] = []
        segments.reserveCapacity(8)
        for part in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            segments.append(Substring(part))
        }
        var allowed: Set<String> = []
        for root in roots(for: host) {
            if let candidates = Self.search(root, segments[...], method: method, allowed: &allowed) {
                return Self.choose(among: candidates, version: version)
            }
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return .methodNotAllowed(allowed: allowed.sorted())
    }

    private func roots(for host: String?) -> [Node] {
        guard let host = host.map(Self.bareHost), !exactHosts.isEmpty || !wildcardHosts.isEmpty else {
            return [anyHost]
        }
        var roots: [Node] = []
        if let node = exactHosts[host] { roots.append(node) }
        for (suffix, node) in wildcardHosts where host.hasSuffix(suffix) { roots.append(node) }
        roots.append(anyHost)
        return roots
    }

    package static func bareHost(_ host: String) -> String {
        var value = Substring(host)
        if value.hasPrefix("[") {
            if let end = value.firstIndex(of: "]") { value = value[...end] }
        } else if let colon = value.lastIndex(of: ":") {
            value = value[..<colon]
        }
        return value.lowercased()
    }

    /// Picks among the versions of one route: the one asked for, else the default, else the last declared.
    private static func choose(among candidates: [CompiledRoute], version: (CompiledRoute) -> String?) -> Match {
        guard candidates.count > 1 || candidates[0].versioning.by != .path else { return .route(candidates[0]) }
        if let requested = version(candidates[0]) {
            if let route = candidates.first(where: { $0.apiVersion == requested }) { return .route(route) }
            return .unknownVersion(requested: requested, available: candidates.compactMap(\.apiVersion))
        }
        return .route(candidates.first(where: \.isDefaultVersion) ?? candidates[candidates.count - 1])
    }

    /// Depth-first: literal, then parameter, then rest routes at this level. Returns the routes of
    /// the first level that answers the method (several when versions share the path).
    private static func search(
        _ node: Node, _ segments: ArraySlice<Substring>, method: String, allowed: inout Set<String>
    ) -> [CompiledRoute]? {
        if let first = segments.first {
            let rest = segments.dropFirst()
            if let child = node.literals[first], let found = search(child, rest, method: method, allowed: &allowed) {
                return found
            }
            for (pattern, child) in node.patterns where pattern.match(first) != nil {
                if let found = search(child, rest, method: method, allowed: &allowed) { return found }
            }
            if let child = node.parameter, let found = search(child, rest, method: method, allowed: &allowed) {
                return found
            }
        } else if let found = accepting(node.routes, method: method, allowed: &allowed) {
            return found
        }
        return accepting(node.restRoutes, method: method, allowed: &allowed)
    }

    private static func accepting(
        _ routes: [CompiledRoute], method: String, allowed: inout Set<String>
    ) -> [CompiledRoute]? {
        var found: [CompiledRoute] = []
        for route in routes {
            if route.accepts(method) { found.append(route) } else { allowed.formUnion(route.methods) }
        }
        return found.isEmpty ? nil : found
    }
}
