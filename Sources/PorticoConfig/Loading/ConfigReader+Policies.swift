import Foundation
import Synchronization
import Yams

/// The policy keys an API or route sets (`PolicyConfig`), and header rules.
extension ConfigLoader.Reader {
    /// Reads the policy keys of a mapping. In OpenAPI documents they carry the prefix `x-portico-`.
    func readPolicies(_ fields: [String: ConfigNode], prefix: String, context: String) -> PolicyConfig {
        var policies = PolicyConfig()
        if let node = fields[prefix + "request-headers"] { policies.forwarding.requestHeaders = readHeaderRules(node) }
        if let node = fields[prefix + "response-headers"] {
            policies.forwarding.responseHeaders = readHeaderRules(node)
        }
        if let node = fields[prefix + "max-body-size"] {
            policies.forwarding.maxBodySize = node.byteSize(context: prefix + "max-body-size")
        }
        if let node = fields[prefix + "timeout"] {
            policies.forwarding.timeout = node.duration(context: prefix + "timeout")
        }
        if let node = fields[prefix + "retry-safe"] {
            policies.forwarding.retrySafe = node.bool(context: prefix + "retry-safe")
        }
        if let node = fields[prefix + "websocket"] {
            policies.upgrade.websocket = node.bool(context: prefix + "websocket")
        }
        if let node = fields[prefix + "stream-idle-timeout"] {
            // 0 would close every tunnel at once.
            policies.upgrade.streamIdleTimeout = node.duration(context: prefix + "stream-idle-timeout", atLeast: "1s")
        }
        if let node = fields[prefix + "validate"] {
            policies.validation.validate = node.choice(ValidationMode.self, context: prefix + "validate")
        }
        if let node = fields[prefix + "validate-responses"],
            let mode = node.choice(ValidationMode.self, context: prefix + "validate-responses")
        {
            if mode == .enforce {
                node.report(
                    "\(prefix)validate-responses is report or off: a response already sent upstream cannot be refused"
                )
            } else {
                policies.validation.validateResponses = mode
            }
        }
        if let node = fields[prefix + "auth"] {
            policies.access.auth = readAuthRequirement(node, context: "\(context) \(prefix)auth")
        }
        if let node = fields[prefix + "allow-groups"] {
            policies.access.allowGroups = node.stringList(context: prefix + "allow-groups")
        }
        if let node = fields[prefix + "deny-groups"] {
            policies.access.denyGroups = node.stringList(context: prefix + "deny-groups")
        }
        if let node = fields[prefix + "scopes"] { policies.access.scopes = node.stringList(context: prefix + "scopes") }
        if let node = fields[prefix + "forward-credential"] {
            policies.access.forwardCredential = node.bool(context: prefix + "forward-credential")
        }
        if let node = fields[prefix + "anonymous"] {
            policies.access.anonymous = node.nonEmptyString(context: prefix + "anonymous")
        }
        if let node = fields[prefix + "rate-limit"] {
            policies.limits.rateLimits = readRateLimits(node, context: "\(context) \(prefix)rate-limit")
        }
        if let node = fields[prefix + "cost"] {
            policies.limits.cost = node.int(context: prefix + "cost", range: 1...1_000_000)
        }
        if let node = fields[prefix + "cache"] {
            policies.cache = readCachePolicy(node, context: "\(context) \(prefix)cache")
        }
        if let node = fields[prefix + "cors"] {
            policies.cors = readCORS(node, context: "\(context) \(prefix)cors")
        }
        if let node = fields[prefix + "ip"] {
            policies.ipRules = readIPRules(node, context: "\(context) \(prefix)ip")
        }
        if let node = fields[prefix + "compress"] {
            policies.compress = readCompress(node, context: "\(context) \(prefix)compress")
        }
        if let node = fields[prefix + "request-transform"] {
            policies.transforms.requestTransform = readTransform(
                node, request: true, context: "\(context) \(prefix)request-transform")
        }
        if let node = fields[prefix + "mirror"] {
            policies.mirror = readMirror(node, context: "\(context) \(prefix)mirror")
        }
        if let node = fields[prefix + "response-transform"] {
            policies.transforms.responseTransform = readTransform(
                node, request: false, context: "\(context) \(prefix)response-transform")
        }
        return policies
    }

    func readHeaderRules(_ node: ConfigNode) -> HeaderRules? {
        guard let fields = node.fields(allowed: ["set", "add", "remove"], context: "header rules") else {
            return nil
        }
        var rules = HeaderRules()
        rules.set = fields["set"].map(readHeaderPairs) ?? []
        rules.add = fields["add"].map(readHeaderPairs) ?? []
        rules.remove = fields["remove"]?.stringList(context: "remove") ?? []
        for name in rules.remove where !HTTPMethodName.isToken(name) {
            fields["remove"]?.report("'\(name)' is not a valid header name")
        }
        return rules
    }

    func readHeaderPairs(_ node: ConfigNode) -> [HeaderPair] {
        var pairs: [HeaderPair] = []
        for entry in node.mapping(allowed: nil, context: "headers") ?? [] {
            guard HTTPMethodName.isToken(entry.key) else {
                entry.keyNode.report("'\(entry.key)' is not a valid header name")
                continue
            }
            if let value = entry.value.string(context: "header \(entry.key)") {
                pairs.append(HeaderPair(name: entry.key, value: value))
            }
        }
        return pairs
    }
}
