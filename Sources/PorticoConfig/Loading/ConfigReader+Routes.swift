import Foundation
import Synchronization
import Yams

/// A route of an API, and what a route or API can set about versions, lifecycle and splits.
extension ConfigLoader.Reader {
    func readRoute(_ node: ConfigNode, api: String) -> RouteConfig? {
        let context = "a route of API '\(api)'"
        guard let fields = node.fields(allowed: ConfigLoader.routeKeys, context: context) else { return nil }
        guard let pathNode = fields["path"], let path = pathNode.string(context: "path") else {
            if fields["path"] == nil { node.report("\(context) needs a path") }
            return nil
        }
        if let problem = PathTemplate.problem(in: path) {
            pathNode.report("bad route path '\(path)': \(problem)")
            return nil
        }
        var route = RouteConfig(path: path, location: "\(node.file):\(node.line)")
        if let methodsNode = fields["methods"], let methods = methodsNode.stringList(context: "methods") {
            route.methods = methods.map { $0.uppercased() }
            for method in route.methods where !HTTPMethodName.isValid(method) {
                methodsNode.report("'\(method)' is not an HTTP method")
            }
        }
        route.name = fields["name"]?.nonEmptyString(context: "name")
        route.policies = readPolicies(fields, prefix: "", context: context)
        route.lifecycle = readLifecycle(fields, context: context)
        route.split = fields["split"].flatMap { readSplit($0, fields: fields, context: context) }
        route.respond = fields["respond"].flatMap { readStaticResponse($0, context: "\(context) respond") }
        route.redirect = fields["redirect"].flatMap { readRedirect($0, context: "\(context) redirect") }
        let terminals = ["respond", "redirect", "split"].filter { fields[$0] != nil }
        if terminals.count > 1 {
            node.report("\(context) has \(terminals.joined(separator: " and ")); a route answers in one way only")
        }
        return route
    }

    func readVersioning(_ node: ConfigNode, context: String) -> VersioningConfig? {
        guard let fields = node.fields(allowed: ["by", "name"], context: "\(context) versioning") else {
            return nil
        }
        var versioning = VersioningConfig()
        if let byNode = fields["by"], let text = byNode.string(context: "versioning.by") {
            guard let source = VersioningConfig.Source(rawValue: text) else {
                let known = VersioningConfig.Source.allCases.map(\.rawValue).joined(separator: ", ")
                byNode.report("unknown versioning '\(text)' (known: \(known))")
                return nil
            }
            versioning.by = source
        }
        versioning.name = fields["name"]?.nonEmptyString(context: "versioning.name")
        if let name = versioning.name, versioning.by == .header, !HTTPMethodName.isToken(name) {
            fields["name"]?.report("'\(name)' is not a valid header name")
        }
        return versioning
    }

    func readLifecycle(_ fields: [String: ConfigNode], context: String) -> LifecycleConfig {
        var lifecycle = LifecycleConfig()
        if let node = fields["deprecated"], let text = node.string(context: "deprecated") {
            switch text.lowercased() {
            case "true", "yes": lifecycle.deprecated = .distantPast
            case "false", "no": break
            default:
                lifecycle.deprecated = LifecycleConfig.parseDate(text)
                if lifecycle.deprecated == nil {
                    node.report("deprecated must be true or a date like 2026-12-01, found '\(text)'")
                }
            }
        }
        if let node = fields["sunset"], let text = node.string(context: "sunset") {
            lifecycle.sunset = LifecycleConfig.parseDate(text)
            if lifecycle.sunset == nil { node.report("sunset must be a date like 2027-06-30, found '\(text)'") }
        }
        lifecycle.successor = fields["successor"]?.nonEmptyString(context: "successor")
        lifecycle.docs = fields["deprecation-docs"]?.nonEmptyString(context: "deprecation-docs")
        if let value = fields["serve-after-sunset"]?.bool(context: "serve-after-sunset") {
            lifecycle.serveAfterSunset = value
        }
        return lifecycle
    }

    func readSplit(_ node: ConfigNode, fields: [String: ConfigNode], context: String) -> SplitConfig? {
        var sides: [SplitSide] = []
        for item in node.sequence(context: "\(context) split") ?? [] {
            guard let side = item.fields(allowed: ["upstream", "weight"], context: "a split side"),
                let upstream = side["upstream"]?.nonEmptyString(context: "split upstream")
            else {
                if case .mapping = item.node, item.node.value(forKey: "upstream") == nil {
                    item.report("a split side needs an upstream")
                }
                continue
            }
            let weight = side["weight"]?.int(context: "split weight", range: 0...1_000_000) ?? 1
            sides.append(SplitSide(upstream: upstream, weight: weight))
        }
        guard !sides.isEmpty else {
            node.report("\(context) split needs at least one side")
            return nil
        }
        if sides.allSatisfy({ $0.weight == 0 }) {
            node.report("\(context) split has no side with a weight above 0")
        }
        var split = SplitConfig(sides: sides)
        if let stickyNode = fields["sticky"], let text = stickyNode.string(context: "sticky") {
            if let key = HashKey(parsing: text), key != .path {
                split.sticky = key
            } else {
                stickyNode.report("sticky must be ip, consumer, header:NAME or cookie:NAME, found '\(text)'")
            }
        }
        if let forceNode = fields["force-header"], let name = forceNode.nonEmptyString(context: "force-header") {
            if HTTPMethodName.isToken(name) {
                split.forceHeader = name
            } else {
                forceNode.report("'\(name)' is not a valid header name")
            }
        }
        return split
    }
}
