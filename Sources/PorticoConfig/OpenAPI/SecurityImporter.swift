import Yams

/// Turns an OpenAPI document's `security` requirements into auth requirements on its routes.
///
/// Each security scheme of `components.securitySchemes` maps onto one of the config's auth
/// methods: the one its `x-portico-auth` names, else the one with the scheme's name, else the
/// only method of a matching type (apiKey → api-key, http basic → basic, http bearer, oauth2
/// and openIdConnect → jwt or introspection).
struct SecurityImporter {
    let methods: [AuthMethodConfig]
    /// Scheme name → auth method name, for the schemes that map.
    private(set) var schemes: [String: String] = [:]
    /// Every scheme the document declares, mapped or not.
    private(set) var declared: Set<String> = []

    /// `follow` resolves a scheme written as a `$ref` (to another file, say) to its object.
    init(components: ConfigNode?, methods: [AuthMethodConfig], follow: (ConfigNode) -> ConfigNode? = { $0 }) {
        self.methods = methods
        guard let schemesNode = components?.node.value(forKey: "securitySchemes").flatMap({ components?.child($0) }),
            let entries = schemesNode.mapping(allowed: nil, context: "securitySchemes")
        else { return }
        for entry in entries {
            declared.insert(entry.key)
            guard let scheme = follow(entry.value) else { continue }
            if let method = resolve(name: entry.key, scheme: scheme) { schemes[entry.key] = method }
        }
    }

    private func resolve(name: String, scheme: ConfigNode) -> String? {
        if let explicit = scheme.node.value(forKey: "x-portico-auth").map(scheme.child) {
            guard let method = explicit.nonEmptyString(context: "x-portico-auth") else { return nil }
            guard methods.contains(where: { $0.name == method }) else {
                explicit.report(
                    "security scheme '\(name)' names auth method '\(method)', which is not defined in the config's auth section"
                )
                return nil
            }
            return method
        }
        if methods.contains(where: { $0.name == name }) { return name }
        let type = scheme.node.value(forKey: "type")?.string ?? ""
        let httpScheme = scheme.node.value(forKey: "scheme")?.string?.lowercased()
        let fitting: Set<String>
        switch (type, httpScheme) {
        case ("apiKey", _): fitting = ["api-key"]
        case ("http", "basic"): fitting = ["basic"]
        case ("http", "bearer"), ("oauth2", _), ("openIdConnect", _): fitting = ["jwt", "introspection"]
        default: fitting = []
        }
        let candidates = methods.filter { fitting.contains($0.typeName) }
        if candidates.count == 1 { return candidates[0].name }
        let reason =
            candidates.isEmpty
            ? "no auth method of a matching type is defined"
            : "several auth methods could serve it (\(candidates.map(\.name).joined(separator: ", ")))"
        scheme.report(
            "security scheme '\(name)' maps onto no auth method: \(reason); name a method '\(name)' in the config's auth section or set x-portico-auth on the scheme"
        )
        return nil
    }

    /// A `security` list as an auth requirement; nil (after reporting) when it names unknown schemes.
    func requirement(_ node: ConfigNode) -> AuthRequirement? {
        guard let items = node.sequence(context: "security") else { return nil }
        var requirement = AuthRequirement(alternatives: [])
        var ok = true
        for item in items {
            guard let entries = item.mapping(allowed: nil, context: "a security requirement") else {
                ok = false; continue
            }
            if entries.isEmpty {
                requirement.optional = true
                continue
            }
            var steps: [AuthStep] = []
            for entry in entries {
                // A scheme that maps onto no method was reported at its declaration.
                guard let method = schemes[entry.key] else {
                    if !declared.contains(entry.key) {
                        entry.keyNode.report(
                            "security requirement names scheme '\(entry.key)', which components.securitySchemes does not declare"
                        )
                    }
                    ok = false
                    continue
                }
                steps.append(
                    AuthStep(method: method, scopes: entry.value.stringList(context: "scopes of '\(entry.key)'") ?? []))
            }
            requirement.alternatives.append(steps)
        }
        return ok ? requirement : nil
    }
}
