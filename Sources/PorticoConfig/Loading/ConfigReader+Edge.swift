import Foundation

/// The edge policies' keys: `cors`, `ip`, `compress`, `request-transform`, `response-transform`,
/// and the terminal `respond` and `redirect` of a route.
extension ConfigLoader.Reader {
    static let corsKeys: Set<String> = [
        "origins", "methods", "headers", "expose-headers", "credentials", "max-age", "refuse",
    ]

    func readCORS(_ node: ConfigNode, context: String) -> CORSConfig? {
        guard let fields = node.fields(allowed: Self.corsKeys, context: context) else { return nil }
        var cors = CORSConfig()
        guard let originsNode = fields["origins"], let origins = originsNode.stringList(context: "\(context) origins")
        else {
            if fields["origins"] == nil {
                node.report("\(context) needs origins (a list like [\"https://app.example.com\"], or \"*\")")
            }
            return nil
        }
        for origin in origins {
            switch OriginPattern.parse(origin) {
            case .success(let pattern): cors.origins.append(pattern)
            case .failure(let problem): originsNode.report("\(context) origins: \(problem)")
            }
        }
        if let methodsNode = fields["methods"], let methods = methodsNode.stringList(context: "\(context) methods") {
            cors.methods = methods.map { $0.uppercased() }
            for method in cors.methods where !HTTPMethodName.isValid(method) {
                methodsNode.report("\(context) methods: '\(method)' is not an HTTP method")
            }
        }
        cors.headers = readHeaderNames(fields["headers"], context: "\(context) headers")
        cors.exposeHeaders = readHeaderNames(fields["expose-headers"], context: "\(context) expose-headers")
        if let value = fields["credentials"]?.bool(context: "\(context) credentials") { cors.credentials = value }
        if let value = fields["refuse"]?.bool(context: "\(context) refuse") { cors.refuse = value }
        if let node = fields["max-age"], let age = node.duration(context: "\(context) max-age") {
            if age.milliseconds < 0 || age.milliseconds > 86_400_000 {
                node.report("\(context) max-age must be at most 24h (browsers cap it lower still), found \(age)")
            } else {
                cors.maxAge = age
            }
        }
        if cors.credentials, cors.origins.contains(.any) {
            originsNode.report(
                "\(context): credentials: true with origin \"*\" would let every site read answers with the user's cookies; list the origins"
            )
            return nil
        }
        return cors
    }

    private func readHeaderNames(_ node: ConfigNode?, context: String) -> [String] {
        guard let node, let names = node.stringList(context: context) else { return [] }
        for name in names where !HTTPMethodName.isToken(name) && name != "*" {
            node.report("\(context): '\(name)' is not a valid header name")
        }
        return names.filter { HTTPMethodName.isToken($0) || $0 == "*" }
    }

    func readIPRules(_ node: ConfigNode, context: String) -> IPRulesConfig? {
        guard let fields = node.fields(allowed: ["allow", "deny"], context: context) else { return nil }
        var rules = IPRulesConfig()
        for (key, list) in [("allow", \IPRulesConfig.allow), ("deny", \IPRulesConfig.deny)] {
            if let blocks = fields[key]?.parsedList(CIDRBlock.self, context: "\(context) \(key)") {
                rules[keyPath: list] += blocks
            }
        }
        if fields["allow"] == nil && fields["deny"] == nil { node.report("\(context) needs allow or deny") }
        return rules
    }

    func readCompress(_ node: ConfigNode, context: String) -> CompressConfig? {
        if case .scalar = node.node {
            guard let on = node.bool(context: context) else { return nil }
            return on ? CompressConfig() : nil
        }
        guard let fields = node.fields(allowed: ["types", "min-size", "level", "encodings"], context: context) else {
            return nil
        }
        var compress = CompressConfig()
        if let typesNode = fields["types"], let types = typesNode.stringList(context: "\(context) types") {
            for type in types where !Self.isMediaRange(type) {
                typesNode.report("\(context) types: '\(type)' is not a media type like application/json or text/*")
            }
            compress.types = types.filter(Self.isMediaRange).map { $0.lowercased() }
        }
        if let size = fields["min-size"]?.byteSize(context: "\(context) min-size") { compress.minSize = size }
        if let level = fields["level"]?.int(context: "\(context) level", range: 1...9) { compress.level = level }
        if let encodingsNode = fields["encodings"],
            let encodings = encodingsNode.stringList(context: "\(context) encodings")
        {
            let lowered = encodings.map { $0.lowercased() }
            for encoding in lowered where !CompressConfig.knownEncodings.contains(encoding) {
                encodingsNode.report("\(context) encodings: '\(encoding)' is not supported (supported: gzip, deflate)")
            }
            compress.encodings = lowered.filter(CompressConfig.knownEncodings.contains)
        }
        return compress
    }

    static func isMediaRange(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty
                && (HTTPMethodName.isToken(String(part)) || part == "*"
                    || part.hasPrefix("*+") && HTTPMethodName.isToken(String(part.dropFirst(2))))
        }
    }

    func readTransform(_ node: ConfigNode, request: Bool, context: String) -> TransformConfig? {
        let allowed: Set<String> = request ? ["headers", "query", "path", "body"] : ["headers", "body"]
        guard let fields = node.fields(allowed: allowed, context: context) else { return nil }
        var transform = TransformConfig()
        if let headers = fields["headers"] {
            transform.headers = readTemplateRules(headers, header: true, context: "\(context) headers")
        }
        if let query = fields["query"] {
            transform.query = readTemplateRules(query, header: false, context: "\(context) query")
        }
        if let pathNode = fields["path"], let text = pathNode.string(context: "\(context) path") {
            // `{id}` names a path parameter, as route templates write it.
            let expanded = Self.expandingParameters(text)
            if !expanded.hasPrefix("/") {
                pathNode.report("\(context) path must start with '/', found '\(text)'")
            } else if let template = readTemplate(expanded, node: pathNode, context: "\(context) path") {
                transform.path = template
            }
        }
        if let body = fields["body"] { transform.body = readBodyRules(body, context: "\(context) body") }
        return transform
    }

    /// `/users/{id}` as `/users/${path.id}`; `${...}` is left alone.
    static func expandingParameters(_ text: String) -> String {
        var output = ""
        var previous: Character?
        for character in text {
            if character == "{", previous != "$" { output += "${path." } else { output.append(character) }
            previous = character
        }
        return output
    }

    func readTemplate(_ text: String, node: ConfigNode, context: String) -> ValueTemplate? {
        switch ValueTemplate.parse(text) {
        case .success(let template): return template
        case .failure(let problem):
            node.report("\(context): \(problem)")
            return nil
        }
    }

    static let framingHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
        "proxy-connection",
    ]

    func readTemplateRules(_ node: ConfigNode, header: Bool, context: String) -> TemplateRules {
        var rules = TemplateRules()
        guard let fields = node.fields(allowed: ["rename", "remove", "set", "add"], context: context) else {
            return rules
        }
        func validName(_ name: String, at node: ConfigNode) -> Bool {
            let valid =
                header
                ? HTTPMethodName.isToken(name)
                : !name.isEmpty && !name.contains("&") && !name.contains("=") && !name.contains("#")
            if !valid {
                node.report("\(context): '\(name)' is not a valid \(header ? "header" : "query parameter") name")
                return false
            }
            if header, Self.framingHeaders.contains(name.lowercased()) {
                node.report(
                    "\(context): '\(name)' frames the message or names the host; the gateway sets it and a transform may not"
                )
                return false
            }
            return true
        }
        for entry in fields["rename"]?.mapping(allowed: nil, context: "\(context) rename") ?? [] {
            guard validName(entry.key, at: entry.keyNode),
                let target = entry.value.nonEmptyString(context: "\(context) rename \(entry.key)"),
                validName(target, at: entry.value)
            else { continue }
            rules.rename.append((entry.key, target))
        }
        if let removeNode = fields["remove"], let names = removeNode.stringList(context: "\(context) remove") {
            rules.remove = names.filter { validName($0, at: removeNode) }
        }
        for (key, keyPath) in [("set", \TemplateRules.set), ("add", \TemplateRules.add)] {
            for entry in fields[key]?.mapping(allowed: nil, context: "\(context) \(key)") ?? [] {
                guard validName(entry.key, at: entry.keyNode),
                    let text = entry.value.string(context: "\(context) \(key) \(entry.key)"),
                    let template = readTemplate(text, node: entry.value, context: "\(context) \(key) \(entry.key)")
                else { continue }
                rules[keyPath: keyPath].append((entry.key, template))
            }
        }
        return rules
    }

    func readBodyRules(_ node: ConfigNode, context: String) -> BodyRules? {
        guard let fields = node.fields(allowed: ["rename", "remove", "set", "max-size"], context: context) else {
            return nil
        }
        var rules = BodyRules()
        func pointer(_ text: String, at node: ConfigNode) -> JSONPointer? {
            guard let pointer = JSONPointer(text), !pointer.tokens.isEmpty else {
                node.report("\(context): '\(text)' is not a JSON pointer to a member (like /meta/consumer)")
                return nil
            }
            return pointer
        }
        for entry in fields["rename"]?.mapping(allowed: nil, context: "\(context) rename") ?? [] {
            guard let from = pointer(entry.key, at: entry.keyNode),
                let text = entry.value.string(context: "\(context) rename"),
                let to = pointer(text, at: entry.value)
            else { continue }
            rules.rename.append((from, to))
        }
        if let removeNode = fields["remove"], let texts = removeNode.stringList(context: "\(context) remove") {
            rules.remove = texts.compactMap { pointer($0, at: removeNode) }
        }
        for entry in fields["set"]?.mapping(allowed: nil, context: "\(context) set") ?? [] {
            guard let target = pointer(entry.key, at: entry.keyNode) else { continue }
            if case .scalar(let scalar) = entry.value.node, scalar.style != .plain || scalar.string.contains("${") {
                guard let text = entry.value.string(context: "\(context) set \(entry.key)"),
                    let template = readTemplate(text, node: entry.value, context: "\(context) set \(entry.key)")
                else { continue }
                rules.set.append((target, template.isConstant ? .constant(.string(text)) : .template(template)))
            } else {
                rules.set.append((target, .constant(JSONValue(entry.value.node))))
            }
        }
        if let size = fields["max-size"]?.byteSize(context: "\(context) max-size") {
            if size > 64 << 20 {
                fields["max-size"]?.report(
                    "\(context) max-size must be at most 64MiB (the body is held in memory whole)")
            } else {
                rules.maxSize = size
            }
        }
        return rules
    }

    func readMirror(_ node: ConfigNode, context: String) -> MirrorConfig? {
        guard let fields = node.fields(allowed: ["upstream", "share"], context: context) else { return nil }
        guard let upstream = fields["upstream"]?.nonEmptyString(context: "\(context) upstream") else {
            if fields["upstream"] == nil { node.report("\(context) needs the upstream to copy requests to") }
            return nil
        }
        var mirror = MirrorConfig(upstream: upstream)
        if let share = fields["share"]?.fraction(context: "\(context) share") { mirror.share = share }
        return mirror
    }

    func readStaticResponse(_ node: ConfigNode, context: String) -> StaticResponseConfig? {
        guard let fields = node.fields(allowed: ["status", "headers", "body", "content-type"], context: context) else {
            return nil
        }
        var response = StaticResponseConfig()
        if let status = fields["status"]?.int(context: "\(context) status", range: 200...599) {
            response.status = status
        }
        if let headers = fields["headers"] { response.headers = readHeaderPairs(headers) }
        if let body = fields["body"]?.string(context: "\(context) body") { response.body = body }
        if let type = fields["content-type"]?.nonEmptyString(context: "\(context) content-type") {
            response.contentType = type
        }
        if [204, 304].contains(response.status), !response.body.isEmpty {
            fields["body"]?.report("\(context): a \(response.status) answer has no body")
        }
        return response
    }

    func readRedirect(_ node: ConfigNode, context: String) -> RedirectConfig? {
        guard let fields = node.fields(allowed: ["to", "status", "keep-query"], context: context) else { return nil }
        guard let toNode = fields["to"], let text = toNode.nonEmptyString(context: "\(context) to") else {
            if fields["to"] == nil { node.report("\(context) needs to: the path or URL to send clients to") }
            return nil
        }
        guard text.hasPrefix("/") || text.lowercased().hasPrefix("https://") || text.lowercased().hasPrefix("http://")
        else {
            toNode.report("\(context) to must be a path starting with '/' or an http(s) URL, found '\(text)'")
            return nil
        }
        if text.hasPrefix("//") {
            toNode.report(
                "\(context) to: '\(text)' starts with '//', which browsers read as another host; write the URL with its scheme"
            )
            return nil
        }
        guard let template = readTemplate(text, node: toNode, context: "\(context) to") else { return nil }
        var redirect = RedirectConfig(to: template)
        if let statusNode = fields["status"], let status = statusNode.int(context: "\(context) status") {
            if RedirectConfig.statuses.contains(status) {
                redirect.status = status
            } else {
                statusNode.report("\(context) status must be 301, 302, 303, 307 or 308, found \(status)")
            }
        }
        if let keep = fields["keep-query"]?.bool(context: "\(context) keep-query") { redirect.keepQuery = keep }
        return redirect
    }
}
