import HTTPTypes
import PorticoConfig

/// The first thing every data-plane request meets, before the portal, routing or any policy.
///
/// It refuses what RFC 9112 says a server must (a second `Host`), puts the path in its one
/// canonical form (`PathNormalizer`), removes hop-by-hop headers and what `Connection` names, and
/// removes what only a trusted proxy may say: `Forwarded`, `X-Forwarded-*`, `X-Real-IP`,
/// `X-Original-URL`, `X-Rewrite-URL`. Identity headers (`X-Consumer-*`, `X-Authenticated-Scopes`)
/// are removed in every spelling; the auth policy sets them again when it has an identity.
struct RequestGuard: Sendable {
    let normalizer: PathNormalizer
    /// The trusted proxies; the same check `by: ip` limits use.
    let proxies: ClientAddress
    let underscores: UnderscoreHeaders

    /// `server.trustedProxies` already holds `limits.trusted-proxies` too (the loader merges them).
    init(server: ServerConfig) {
        self.normalizer = PathNormalizer(settings: server.path)
        self.proxies = ClientAddress(trustedProxies: server.trustedProxies)
        self.underscores = server.headersWithUnderscores
    }

    static let host = HTTPField.Name("Host")!

    /// Hop-by-hop headers (RFC 9110 section 7.6.1). `Transfer-Encoding` stays: it frames the body
    /// the proxy stage forwards, and the proxy removes it there.
    static let hopByHop: Set<String> = [
        "connection", "proxy-connection", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization",
        "proxy-authenticate",
    ]

    /// Headers `Connection` may not remove: they frame the message or name its target.
    static let framing: Set<String> = ["host", "content-length", "transfer-encoding"]

    /// What only a trusted proxy may tell the gateway, lowercased with `-`.
    static let forwarding: Set<String> = [
        "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port",
        "x-forwarded-prefix",
        "x-forwarded-server", "x-forwarded-ssl", "x-forwarded-scheme", "x-real-ip", "x-original-url", "x-original-uri",
        "x-rewrite-url", "x-client-ip", "true-client-ip", "x-cluster-client-ip",
    ]

    /// The request as the rest of the gateway sees it (nil: unchanged, use it as it came), or
    /// the 400 it gets. Most requests need no change, and then nothing is copied.
    func admit(_ head: HTTPRequest, peer: String?) -> Result<HTTPRequest?, GatewayError> {
        var head = head
        var changed = false
        if head.headerFields[Self.host] != nil {
            return .failure(.badRequest("The request has more than one Host header."))
        }
        switch normalizer.normalize(head.path ?? "/") {
        case .success(let path):
            if path != head.path {
                head.path = path
                changed = true
            }
        case .failure(let refusal): return .failure(.badRequest(refusal.reason))
        }

        var named: Set<String> = []
        for value in head.headerFields[values: .connection] {
            for token in value.split(separator: ",") {
                let name = token.trimmingWhitespace().lowercased()
                if !name.isEmpty, !Self.framing.contains(name) { named.insert(name) }
            }
        }
        // The peer's trust is looked up only when a forwarding header needs it.
        var trustedPeer: Bool?
        let isTrusted = { () -> Bool in
            if let known = trustedPeer { return known }
            let trusted = proxies.isTrusted(peer)
            trustedPeer = trusted
            return trusted
        }
        var removal = false
        for field in head.headerFields {
            let decision = verdict(for: field.name, named: named, trusted: isTrusted)
            if decision == .reject {
                return .failure(.badRequest("The header '\(field.name.rawName)' holds an underscore."))
            }
            if decision == .remove { removal = true }
        }
        guard removal else { return .success(changed ? head : nil) }
        var kept = HTTPFields()
        kept.reserveCapacity(head.headerFields.count)
        for field in head.headerFields where verdict(for: field.name, named: named, trusted: isTrusted) == .keep {
            kept.append(field)
        }
        head.headerFields = kept
        return .success(head)
    }

    private enum Verdict { case keep, remove, reject }

    private func verdict(for name: HTTPField.Name, named: Set<String>, trusted: () -> Bool) -> Verdict {
        let lowered = name.canonicalName
        if Self.hopByHop.contains(lowered) || named.contains(lowered) { return .remove }
        let hasUnderscore = lowered.utf8.contains(UInt8(ascii: "_"))
        if hasUnderscore {
            switch underscores {
            case .drop: return .remove
            case .reject: return .reject
            case .allow: break
            }
        }
        let spelled = hasUnderscore ? lowered.replacingUnderscores() : lowered
        // Only the auth policy says who is calling: it sets these from the identity it found.
        if spelled.hasPrefix("x-consumer-") || spelled == "x-authenticated-scopes" { return .remove }
        // Only the mtls method says which client certificate was verified (`forward-cert`); the
        // listener's own `Portico-Client-Cert-*` fields are set, exactly so spelled, before this.
        if spelled.hasPrefix("x-client-cert-") || (hasUnderscore && spelled.hasPrefix("portico-client-cert-")) {
            return .remove
        }
        if Self.forwarding.contains(spelled) { return !hasUnderscore && trusted() ? .keep : .remove }
        return .keep
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(decoding: utf8.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
    }
}
