import Foundation

extension ConfigLoader.Reader {
    static let authMethodKeys: [String: Set<String>] = [
        "api-key": ["type", "header", "query"],
        "jwt": [
            "type", "secret", "public-key", "public-keys", "jwks-url", "issuer", "audience", "consumer-claim",
            "groups-claim", "leeway", "algorithms", "jwks-refresh", "jwks-min-refetch",
        ],
        "basic": ["type", "realm"],
        "mtls": ["type", "consumer-from", "forward-cert"],
        "introspection": [
            "type", "url", "client-id", "client-secret", "consumer-claim", "cache-ttl", "negative-cache-ttl", "timeout",
        ],
    ]

    /// The top-level `auth` section: named methods.
    func readAuthMethods(_ node: ConfigNode) -> [AuthMethodConfig] {
        guard let entries = node.mapping(allowed: nil, context: "auth") else { return [] }
        var methods: [AuthMethodConfig] = []
        for entry in entries {
            if entry.key == "none" {
                entry.keyNode.report("the auth method name 'none' is reserved (auth: none turns authentication off)")
                continue
            }
            if let method = readAuthMethod(entry.value, name: entry.key) { methods.append(method) }
        }
        return methods
    }

    func readAuthMethod(_ node: ConfigNode, name: String) -> AuthMethodConfig? {
        let context = "auth method '\(name)'"
        guard case .mapping = node.node, let typeNode = node.node.value(forKey: "type").map(node.child),
            let type = typeNode.string(context: "\(context) type")
        else {
            if case .mapping = node.node {
                node.report("\(context) needs a type (one of \(AuthMethodConfig.typeNames.joined(separator: ", ")))")
            } else {
                node.report("\(context) must be a mapping, found \(node.kind)")
            }
            return nil
        }
        guard let allowed = Self.authMethodKeys[type] else {
            typeNode.report(
                "unknown auth type '\(type)' (known: \(AuthMethodConfig.typeNames.joined(separator: ", ")))")
            return nil
        }
        guard let fields = node.fields(allowed: allowed, context: context) else { return nil }
        switch type {
        case "api-key":
            var method = APIKeyMethod()
            if let node = fields["header"], let value = node.nonEmptyString(context: "\(context) header") {
                if HTTPMethodName.isToken(value) {
                    method.header = value
                } else {
                    node.report("'\(value)' is not a valid header name")
                }
            }
            method.query = fields["query"]?.nonEmptyString(context: "\(context) query")
            return AuthMethodConfig(name: name, kind: .apiKey(method))
        case "jwt":
            return readJWTMethod(fields, node: node, context: context).map {
                AuthMethodConfig(name: name, kind: .jwt($0))
            }
        case "mtls":
            var method = MTLSMethod()
            if let node = fields["consumer-from"],
                let source = node.choice(MTLSMethod.Source.self, context: "\(context) consumer-from")
            {
                method.consumerFrom = source
            }
            if let value = fields["forward-cert"]?.bool(context: "\(context) forward-cert") {
                method.forwardCertificate = value
            }
            return AuthMethodConfig(name: name, kind: .mtls(method))
        case "basic":
            var method = BasicMethod()
            if let value = fields["realm"]?.nonEmptyString(context: "\(context) realm") {
                if value.contains("\"") {
                    fields["realm"]?.report("\(context) realm must not contain a double quote")
                } else {
                    method.realm = value
                }
            }
            return AuthMethodConfig(name: name, kind: .basic(method))
        default:
            guard let urlNode = fields["url"], let url = urlNode.nonEmptyString(context: "\(context) url") else {
                if fields["url"] == nil { node.report("\(context) needs the introspection endpoint's url") }
                return nil
            }
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                urlNode.report("\(context) url must be an http or https URL, found '\(url)'")
                return nil
            }
            var method = IntrospectionMethod(url: url)
            method.clientID = fields["client-id"]?.nonEmptyString(context: "\(context) client-id")
            method.clientSecret = fields["client-secret"]?.string(context: "\(context) client-secret")
            if let value = fields["consumer-claim"]?.nonEmptyString(context: "\(context) consumer-claim") {
                method.consumerClaim = value
            }
            if let value = fields["cache-ttl"]?.duration(context: "\(context) cache-ttl") { method.cacheTTL = value }
            if let value = fields["negative-cache-ttl"]?.duration(context: "\(context) negative-cache-ttl") {
                method.negativeCacheTTL = value
            }
            if let value = fields["timeout"]?.duration(context: "\(context) timeout") { method.timeout = value }
            return AuthMethodConfig(name: name, kind: .introspection(method))
        }
    }

    func readJWTMethod(_ fields: [String: ConfigNode], node: ConfigNode, context: String) -> JWTMethod? {
        var method = JWTMethod()
        var ok = true
        if let secretNode = fields["secret"], let secret = secretNode.nonEmptyString(context: "\(context) secret") {
            if secret.utf8.count < 32 {
                secretNode.report("\(context) secret must be at least 32 bytes (256 bits) for HS256")
                ok = false
            }
            method.secret = secret
        }
        for key in ["public-key", "public-keys"] {
            guard let keysNode = fields[key], let texts = keysNode.stringList(context: "\(context) \(key)") else {
                continue
            }
            for text in texts {
                do throws(JWTKeyProblem) {
                    _ = try JWTPublicKey(parsing: text)
                    method.publicKeys.append(text)
                } catch {
                    keysNode.report("\(context) \(key): \(error.description)")
                    ok = false
                }
            }
        }
        if let urlNode = fields["jwks-url"], let url = urlNode.nonEmptyString(context: "\(context) jwks-url") {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil {
                method.jwksURL = url
            } else {
                urlNode.report("\(context) jwks-url must be an http or https URL, found '\(url)'")
                ok = false
            }
        }
        let sources = [method.secret != nil, !method.publicKeys.isEmpty, method.jwksURL != nil].filter { $0 }.count
        if sources == 0, ok {
            node.report("\(context) needs one of secret, public-key or jwks-url")
            return nil
        }
        if method.secret != nil, sources > 1 {
            node.report(
                "\(context) mixes a secret with public keys; an HMAC secret and public keys in one method invite algorithm confusion, so declare two methods"
            )
            return nil
        }
        method.issuer = fields["issuer"]?.nonEmptyString(context: "\(context) issuer")
        method.audiences = fields["audience"]?.stringList(context: "\(context) audience") ?? []
        if let value = fields["consumer-claim"]?.nonEmptyString(context: "\(context) consumer-claim") {
            method.consumerClaim = value
        }
        method.groupsClaim = fields["groups-claim"]?.nonEmptyString(context: "\(context) groups-claim")
        if let value = fields["leeway"]?.duration(context: "\(context) leeway") { method.leeway = value }
        if let value = fields["jwks-refresh"]?.duration(context: "\(context) jwks-refresh") {
            method.jwksRefresh = value
        }
        if let value = fields["jwks-min-refetch"]?.duration(context: "\(context) jwks-min-refetch") {
            method.jwksMinRefetch = value
        }
        if let algorithmsNode = fields["algorithms"],
            let names = algorithmsNode.stringList(context: "\(context) algorithms")
        {
            for name in names where !JWTMethod.supportedAlgorithms.contains(name) {
                algorithmsNode.report(
                    "\(context): unknown algorithm '\(name)' (known: \(JWTMethod.supportedAlgorithms.joined(separator: ", ")))"
                )
                ok = false
            }
            let family = method.secret != nil ? "HS" : nil
            for name in names where family == "HS" && !name.hasPrefix("HS") {
                algorithmsNode.report(
                    "\(context): \(name) cannot be checked with a secret; a secret checks HS256, HS384 and HS512")
                ok = false
            }
            for name in names where family == "HS" && name.hasPrefix("HS") {
                let bits = Int(name.dropFirst(2)) ?? 256
                if let secret = method.secret, secret.utf8.count * 8 < bits {
                    algorithmsNode.report("\(context): \(name) needs a secret of at least \(bits / 8) bytes")
                    ok = false
                }
            }
            for name in names where family == nil && name.hasPrefix("HS") {
                algorithmsNode.report("\(context): \(name) needs a secret; public keys check RS, PS, ES and EdDSA")
                ok = false
            }
            method.algorithms = names
        }
        return ok ? method : nil
    }

    /// The top-level `consumers` list.
    func readConsumers(_ node: ConfigNode) -> [ConsumerConfig] {
        var consumers: [ConsumerConfig] = []
        var names: Set<String> = []
        for (index, item) in (node.sequence(context: "consumers") ?? []).enumerated() {
            let allowed: Set<String> = ["name", "groups", "plan", "scopes", "keys", "password-hash", "ip"]
            guard let fields = item.fields(allowed: allowed, context: "consumers[\(index)]") else { continue }
            guard let name = fields["name"]?.nonEmptyString(context: "consumer name") else {
                if fields["name"] == nil { item.report("consumers[\(index)] needs a name") }
                continue
            }
            if !ConsumerConfig.isValidName(name) {
                fields["name"]?.report(
                    "consumer name '\(name)' may hold letters, digits, '.', '_', '-', '@' and '+' only")
                continue
            }
            if !names.insert(name).inserted { fields["name"]?.report("duplicate consumer '\(name)'") }
            var consumer = ConsumerConfig(name: name)
            consumer.groups = fields["groups"]?.stringList(context: "consumer '\(name)' groups") ?? []
            consumer.plan = fields["plan"]?.nonEmptyString(context: "consumer '\(name)' plan")
            consumer.scopes = fields["scopes"]?.stringList(context: "consumer '\(name)' scopes") ?? []
            if let keysNode = fields["keys"] {
                for key in keysNode.stringList(context: "consumer '\(name)' keys") ?? [] {
                    if key.hasPrefix("sha256:") {
                        let hex = String(key.dropFirst("sha256:".count)).lowercased()
                        guard let bytes = APIKey.bytes(fromHex: hex), bytes.count == 32 else {
                            keysNode.report("consumer '\(name)': sha256: must be followed by 64 hex digits")
                            continue
                        }
                        consumer.keyDigests.append(hex)
                    } else if key.count < 16 {
                        keysNode.report("consumer '\(name)': an API key must be at least 16 characters")
                    } else {
                        consumer.keyDigests.append(APIKey.hexDigest(key))
                    }
                }
            }
            if let hashNode = fields["password-hash"],
                let text = hashNode.nonEmptyString(context: "consumer '\(name)' password-hash")
            {
                if PasswordHash(parsing: text) == nil {
                    hashNode.report(
                        "consumer '\(name)': password-hash must be pbkdf2-sha256$ROUNDS$SALT$HASH with at least 210000 rounds (make one with: portico consumers hash-password)"
                    )
                } else {
                    consumer.passwordHash = text
                }
            }
            consumer.ipRules = fields["ip"].flatMap { readIPRules($0, context: "consumer '\(name)' ip") }
            consumers.append(consumer)
        }
        return consumers
    }

    /// `auth: [keys, jwt]`, `auth: keys` or `auth: none`.
    func readAuthRequirement(_ node: ConfigNode, context: String) -> AuthRequirement? {
        guard let names = node.stringList(context: context) else { return nil }
        if names == ["none"] { return AuthRequirement.none }
        if names.contains("none") {
            node.report(
                "\(context): 'none' cannot be combined with other methods (use anonymous: to let requests without a credential in)"
            )
            return nil
        }
        guard !names.isEmpty else {
            node.report("\(context) lists no methods (write auth: none to turn authentication off)")
            return nil
        }
        return AuthRequirement(alternatives: names.map { [AuthStep(method: $0)] })
    }

    /// Every method an API or route names must be declared in `auth`.
    func checkAuthReferences(_ config: GatewayConfig, root: ConfigNode) {
        let known = Set(config.auth.map(\.name))
        let defined = known.isEmpty ? "none" : config.auth.map(\.name).joined(separator: ", ")
        func check(_ policies: PolicyConfig, _ place: String) {
            for name in policies.access.auth?.methodNames ?? [] where !known.contains(name) {
                root.report("\(place) names auth method '\(name)', which is not defined in auth (defined: \(defined))")
            }
        }
        for api in config.apis {
            check(api.policies, "API '\(api.name)'")
            for route in api.routes {
                let location = route.location.isEmpty ? "" : " (\(route.location))"
                check(route.policies, "route \(route.name ?? route.path) of API '\(api.name)'\(location)")
            }
        }
    }
}

extension ConsumerConfig {
    /// Consumer names go into headers, URLs and log lines, so they are kept plain.
    /// The namespace of the portal's developer accounts: their consumers are `portal:<email>`.
    /// A valid name has no `:`, so no config or operator consumer can be one, and the token
    /// methods refuse a claim that names one.
    package static let portalNamespace = "portal:"

    /// Whether `name` belongs to the portal's namespace.
    package static func isPortalName(_ name: String) -> Bool { name.hasPrefix(portalNamespace) }

    /// The longest consumer name, in bytes.
    package static let maximumNameBytes = 128

    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumNameBytes
            && name.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-@+".unicodeScalars.contains($0)
            }
    }
}
