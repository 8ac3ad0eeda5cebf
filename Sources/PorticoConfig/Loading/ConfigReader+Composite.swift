import Foundation

/// The keys of an API's `endpoints:`: composite endpoints (`calls:`) and branches (`branch:`).
extension ConfigLoader.Reader {
    static let endpointKeys = Set([
        "path", "method", "methods", "name", "calls", "partial", "result", "count", "forward-headers", "branch",
        "openapi",
        "max-body-size", "max-merged-size",
    ]).union(PolicyConfig.keys).union(ConfigLoader.lifecycleKeys)
    static let callKeys: Set<String> = [
        "name", "upstream", "method", "path", "headers", "body", "group", "target", "allow", "deny", "rename", "move",
        "flatten",
        "timeout", "required", "for-each", "as", "concurrency", "max-items", "cache", "max-size",
    ]
    static let resultKeys: Set<String> = ["wrap", "array", "target", "allow", "deny", "rename", "move", "flatten"]

    func readEndpoint(_ node: ConfigNode, api: String) -> RouteConfig? {
        let context = "an endpoint of API '\(api)'"
        guard let fields = node.fields(allowed: Self.endpointKeys, context: context) else { return nil }
        guard let pathNode = fields["path"], let path = pathNode.string(context: "path") else {
            if fields["path"] == nil { node.report("\(context) needs a path") }
            return nil
        }
        if let problem = PathTemplate.problem(in: path) {
            pathNode.report("bad endpoint path '\(path)': \(problem)")
            return nil
        }
        var route = RouteConfig(path: path, location: "\(node.file):\(node.line)")
        var methods: [String] = []
        if let methodNode = fields["method"], let method = methodNode.nonEmptyString(context: "method") {
            methods = [method.uppercased()]
        }
        if let methodsNode = fields["methods"], let list = methodsNode.stringList(context: "methods") {
            methods += list.map { $0.uppercased() }
        }
        for method in methods where !HTTPMethodName.isValid(method) {
            (fields["method"] ?? fields["methods"] ?? node).report("'\(method)' is not an HTTP method")
        }
        route.methods = methods.isEmpty ? ["GET"] : methods
        route.name = fields["name"]?.nonEmptyString(context: "name")
        route.policies = readPolicies(fields, prefix: "", context: context)
        route.lifecycle = readLifecycle(fields, context: context)
        if let snippet = fields["openapi"] {
            if case .mapping = snippet.node {
                route.operation = JSONValue(snippet.node)
            } else {
                snippet.report("\(context) openapi must be an OpenAPI operation (a mapping with summary, responses…)")
            }
        }
        let parameters = Set(PathTemplate.parameterNames(of: path))

        switch (fields["calls"], fields["branch"]) {
        case (let callsNode?, nil):
            guard let composite = readComposite(callsNode, fields: fields, parameters: parameters, context: context)
            else { return nil }
            route.composite = composite
        case (nil, let branchNode?):
            route.branch = readBranch(
                branchNode, maxBodySize: fields["max-body-size"].flatMap { $0.byteSize(context: "max-body-size") },
                context: context)
            if route.branch == nil { return nil }
            for key in ["partial", "result", "count", "forward-headers", "max-merged-size"] where fields[key] != nil {
                fields[key]?.report("\(context): '\(key)' belongs to an endpoint with calls, not to a branch")
            }
        case (_?, _?):
            node.report("\(context) has both calls and branch; an endpoint answers in one way only")
            return nil
        case (nil, nil):
            node.report("\(context) needs calls (a composite endpoint) or branch")
            return nil
        }
        return route
    }

    private func readComposite(
        _ callsNode: ConfigNode, fields: [String: ConfigNode], parameters: Set<String>, context: String
    ) -> CompositeConfig? {
        guard let items = callsNode.sequence(context: "\(context) calls") else { return nil }
        guard !items.isEmpty else {
            callsNode.report("\(context) calls must list at least one backend call")
            return nil
        }
        var calls: [BackendCallConfig] = []
        var nodes: [String: ConfigNode] = [:]
        for item in items {
            guard let call = readCall(item, parameters: parameters, context: context) else { continue }
            if nodes[call.name] != nil {
                item.report("\(context) has two calls named '\(call.name)'")
                continue
            }
            nodes[call.name] = item
            calls.append(call)
        }
        guard calls.count == items.count else { return nil }
        var composite = CompositeConfig(calls: calls)
        var broken = false
        var groups: [String: String] = [:]
        for call in calls {
            for dependency in call.dependencies.sorted() where nodes[dependency] == nil || dependency == call.name {
                nodes[call.name]?.report(
                    dependency == call.name
                        ? "call '\(call.name)' reads its own answer"
                        : "call '\(call.name)' reads calls.\(dependency), but the endpoint has no call named '\(dependency)' (calls: \(calls.map(\.name).joined(separator: ", ")))"
                )
                broken = true
            }
            if let group = call.group {
                if let other = groups[group] {
                    nodes[call.name]?.report(
                        "calls '\(other)' and '\(call.name)' both go under group '\(group)'; give each its own")
                    broken = true
                }
                groups[group] = call.name
            }
        }
        if !broken, composite.runOrder == nil {
            let cyclic = calls.filter { !$0.dependencies.isEmpty }.map(\.name)
            callsNode.report(
                "\(context): the calls depend on each other in a cycle (among \(cyclic.joined(separator: ", ")))")
            broken = true
        }
        if let node = fields["partial"],
            let mode = node.choice(CompositeConfig.PartialMode.self, context: "\(context) partial")
        {
            composite.partial = mode
        }
        if let node = fields["count"],
            let mode = node.choice(CompositeConfig.CountMode.self, context: "\(context) count")
        {
            composite.count = mode
        }
        if let node = fields["forward-headers"], let names = node.stringList(context: "\(context) forward-headers") {
            for name in names where !HTTPMethodName.isToken(name) {
                node.report("\(context) forward-headers: '\(name)' is not a header name")
            }
            composite.forwardHeaders = names.filter(HTTPMethodName.isToken)
        }
        if let node = fields["max-merged-size"], let size = node.byteSize(context: "\(context) max-merged-size") {
            if size < 1 || size > 256 << 20 {
                node.report("\(context) max-merged-size must be between 1 byte and 256MiB")
            } else {
                composite.maxMergedSize = size
            }
        }
        if let node = fields["result"],
            let resultFields = node.fields(allowed: Self.resultKeys, context: "\(context) result")
        {
            composite.result.wrap = resultFields["wrap"]?.nonEmptyString(context: "result wrap")
            if let value = resultFields["array"]?.bool(context: "result array") { composite.result.array = value }
            composite.result.rules = readMergeRules(resultFields, context: "\(context) result")
            if composite.result.array, composite.calls.contains(where: { $0.group != nil }) {
                node.report(
                    "\(context) result array: true lists each call's answer in order; the calls' groups would be dropped, so remove them"
                )
            }
        }
        return broken ? nil : composite
    }

    private func readCall(_ node: ConfigNode, parameters: Set<String>, context: String) -> BackendCallConfig? {
        guard let fields = node.fields(allowed: Self.callKeys, context: "a call of \(context)") else { return nil }
        guard let name = fields["name"]?.nonEmptyString(context: "call name") else {
            if fields["name"] == nil { node.report("a call of \(context) needs a name") }
            return nil
        }
        let callContext = "call '\(name)' of \(context)"
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            fields["name"]?.report(
                "\(callContext): a call name may hold letters, digits, '_' and '-' only (it is read as calls.\(name))")
            return nil
        }
        guard let upstream = fields["upstream"]?.nonEmptyString(context: "\(callContext) upstream") else {
            if fields["upstream"] == nil { node.report("\(callContext) needs an upstream") }
            return nil
        }
        if upstream == UpstreamConfig.mockName {
            fields["upstream"]?.report(
                "\(callContext): the mock answers routes from an OpenAPI document; a call needs a real upstream")
            return nil
        }
        var alias: String?
        var forEach: BackendCallConfig.ForEach?
        if let forNode = fields["for-each"], let text = forNode.nonEmptyString(context: "\(callContext) for-each") {
            alias = fields["as"]?.nonEmptyString(context: "\(callContext) as") ?? "item"
            forEach = readForEach(forNode, text: text, alias: alias!, fields: fields, context: callContext)
            if forEach == nil { return nil }
        } else {
            for key in ["as", "concurrency", "max-items"] where fields[key] != nil {
                fields[key]?.report("\(callContext): '\(key)' goes with for-each")
            }
        }
        guard let pathNode = fields["path"], let pathText = pathNode.nonEmptyString(context: "\(callContext) path")
        else {
            if fields["path"] == nil { node.report("\(callContext) needs a path") }
            return nil
        }
        guard pathText.hasPrefix("/") else {
            pathNode.report("\(callContext) path must start with '/', found '\(pathText)'")
            return nil
        }
        guard
            let path = readCallTemplate(
                pathNode, text: pathText, alias: alias, parameters: parameters, context: "\(callContext) path")
        else { return nil }
        var call = BackendCallConfig(name: name, upstream: upstream, path: path)
        call.forEach = forEach
        call.location = "\(node.file):\(node.line)"
        if let methodNode = fields["method"], let method = methodNode.nonEmptyString(context: "\(callContext) method") {
            call.method = method.uppercased()
            if !HTTPMethodName.isValid(call.method) { methodNode.report("'\(method)' is not an HTTP method") }
        }
        if let headersNode = fields["headers"] {
            for entry in headersNode.mapping(allowed: nil, context: "\(callContext) headers") ?? [] {
                guard HTTPMethodName.isToken(entry.key) else {
                    entry.keyNode.report("\(callContext) headers: '\(entry.key)' is not a header name")
                    continue
                }
                guard let text = entry.value.string(context: "header \(entry.key)"),
                    let value = readCallTemplate(
                        entry.value, text: text, alias: alias, parameters: parameters,
                        context: "\(callContext) header \(entry.key)")
                else { continue }
                call.headers.append(.init(name: entry.key, value: value))
            }
        }
        if let forEach, !path.readsItem, !call.headers.contains(where: { $0.value.readsItem }) {
            pathNode.report(
                "\(callContext) iterates as '\(forEach.alias)' but neither its path nor its headers read {\(forEach.alias)}"
            )
        }
        if let bodyNode = fields["body"], let text = bodyNode.string(context: "\(callContext) body") {
            if text == "forward" {
                call.forwardBody = true
            } else {
                bodyNode.report("\(callContext) body may only be 'forward' (send the client's body), found '\(text)'")
            }
        }
        call.group = fields["group"]?.nonEmptyString(context: "\(callContext) group")
        call.rules = readMergeRules(fields, context: callContext)
        if let node = fields["timeout"], let timeout = node.duration(context: "\(callContext) timeout") {
            if timeout.milliseconds <= 0 {
                node.report("\(callContext) timeout must be more than 0")
            } else {
                call.timeout = timeout
            }
        }
        if let value = fields["required"]?.bool(context: "\(callContext) required") { call.required = value }
        if let value = fields["cache"]?.bool(context: "\(callContext) cache") { call.cache = value }
        if let node = fields["max-size"], let size = node.byteSize(context: "\(callContext) max-size") {
            if size < 1 || size > 64 << 20 {
                node.report("\(callContext) max-size must be between 1 byte and 64MiB")
            } else {
                call.maxSize = size
            }
        }
        return call
    }

    private func readForEach(
        _ node: ConfigNode, text: String, alias: String, fields: [String: ConfigNode], context: String
    ) -> BackendCallConfig.ForEach? {
        // `calls.NAME.body.SELECTOR`, the selector naming many values with [*].
        let parts = text.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "calls", parts[2] == "body" || parts[2].hasPrefix("body") else {
            node.report(
                "\(context) for-each must read an earlier call's answer, like calls.order.body.items[*].product_id; found '\(text)'"
            )
            return nil
        }
        let rest = parts[2].dropFirst(4)
        let selectorText = rest.first == "." ? String(rest.dropFirst()) : String(rest)
        guard
            let selector = selectorText.isEmpty
                ? JSONSelector(steps: [.each], description: "[*]") : JSONSelector(selectorText)
        else {
            node.report(
                "\(context) for-each: '\(selectorText)' is not a field selector (like items[*].id or /items/*/id)")
            return nil
        }
        guard alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
            !["path", "query", "header", "calls", "consumer", "claims", "request", "client"].contains(alias)
        else {
            fields["as"]?.report("\(context) as: '\(alias)' must be a plain name that is not a placeholder source")
            return nil
        }
        var forEach = BackendCallConfig.ForEach(call: String(parts[1]), selector: selector, alias: alias)
        if let node = fields["concurrency"], let value = node.int(context: "\(context) concurrency", range: 1...64) {
            forEach.concurrency = value
        }
        if let node = fields["max-items"], let value = node.int(context: "\(context) max-items", range: 1...1000) {
            forEach.maxItems = value
        }
        return forEach
    }

    private func readCallTemplate(
        _ node: ConfigNode, text: String, alias: String?, parameters: Set<String>, context: String
    ) -> CallTemplate? {
        switch CallTemplate.parse(text, item: alias) {
        case .failure(let problem):
            node.report("\(context): \(problem)")
            return nil
        case .success(let template):
            for case .request(.path(let name)) in template.parts where !parameters.contains(name) {
                let known = parameters.isEmpty ? "none" : parameters.sorted().joined(separator: ", ")
                node.report(
                    "\(context) reads {path.\(name)}, but the endpoint's path has no {\(name)} (parameters: \(known))")
                return nil
            }
            return template
        }
    }

    func readMergeRules(_ fields: [String: ConfigNode], context: String) -> MergeRules {
        var rules = MergeRules()
        if let node = fields["target"], let text = node.string(context: "\(context) target") {
            if let pointer = JSONPointer(text), !pointer.tokens.contains("*") {
                rules.target = pointer
            } else {
                node.report("\(context) target must be a JSON pointer like /data, found '\(text)'")
            }
        }
        for (key, keyPath) in [("allow", \MergeRules.allow), ("deny", \MergeRules.deny)] {
            guard let node = fields[key], let texts = node.stringList(context: "\(context) \(key)") else { continue }
            for text in texts {
                if let selector = JSONSelector(text), !selector.steps.isEmpty {
                    rules[keyPath: keyPath].append(selector)
                } else {
                    node.report(
                        "\(context) \(key): '\(text)' is not a field (a JSON pointer like /name or /items/*/price, or a dotted path like items[*].price)"
                    )
                }
            }
        }
        if let node = fields["rename"] {
            for entry in node.mapping(allowed: nil, context: "\(context) rename") ?? [] {
                guard let to = entry.value.nonEmptyString(context: "rename \(entry.key)") else { continue }
                guard let from = JSONSelector(entry.key), case .member? = from.steps.last, !to.contains("/") else {
                    entry.keyNode.report(
                        "\(context) rename: '\(entry.key)': '\(to)' must rename a member (like /name: full_name)")
                    continue
                }
                rules.rename.append(.init(from: from, to: to))
            }
        }
        if let node = fields["move"] {
            for entry in node.mapping(allowed: nil, context: "\(context) move") ?? [] {
                guard let toText = entry.value.string(context: "move \(entry.key)") else { continue }
                guard let from = JSONPointer(entry.key), let to = JSONPointer(toText), !from.tokens.isEmpty,
                    !from.tokens.contains("*"), !to.tokens.contains("*")
                else {
                    entry.keyNode.report(
                        "\(context) move: '\(entry.key)' to '\(toText)' must be two JSON pointers without '*'")
                    continue
                }
                rules.move.append(.init(from: from, to: to))
            }
        }
        if let value = fields["flatten"]?.bool(context: "\(context) flatten") { rules.flatten = value }
        return rules
    }

    func readBranch(_ node: ConfigNode, maxBodySize: Int?, context: String) -> BranchConfig? {
        guard let items = node.sequence(context: "\(context) branch") else { return nil }
        var branch = BranchConfig(cases: [], defaultUpstream: nil)
        if let maxBodySize { branch.maxBodySize = maxBodySize }
        var broken = false
        for item in items {
            guard
                let fields = item.fields(
                    allowed: ["when", "upstream", "default"], context: "a case of \(context) branch"),
                let upstream = fields["upstream"]?.nonEmptyString(context: "branch upstream")
            else {
                if case .mapping = item.node, item.node.value(forKey: "upstream") == nil {
                    item.report("a case of \(context) branch needs an upstream")
                }
                broken = true
                continue
            }
            let isDefault = fields["default"]?.bool(context: "branch default") ?? false
            switch (fields["when"], isDefault) {
            case (nil, true):
                if branch.defaultUpstream != nil { item.report("\(context) branch has two defaults") }
                branch.defaultUpstream = upstream
            case (let whenNode?, false):
                guard let text = whenNode.nonEmptyString(context: "branch when") else {
                    broken = true
                    continue
                }
                switch BranchCondition.parse(text) {
                case .success(let condition):
                    branch.cases.append(.init(condition: condition, upstream: upstream, text: text))
                case .failure(let problem):
                    whenNode.report("\(context) branch when: \(problem)")
                    broken = true
                }
            case (_?, true):
                item.report("a case of \(context) branch is either a condition (when) or the default, not both")
                broken = true
            case (nil, false):
                item.report(
                    "a case of \(context) branch needs a condition (when: \"header.X-Region == 'eu'\") or default: true"
                )
                broken = true
            }
        }
        if !broken, branch.cases.isEmpty, branch.defaultUpstream == nil {
            node.report("\(context) branch lists no case")
        }
        return broken ? nil : branch
    }
}
