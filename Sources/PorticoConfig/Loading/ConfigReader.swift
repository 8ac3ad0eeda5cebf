import Foundation
import Synchronization
import Yams

extension ConfigLoader {
    /// The walk over one config tree. Each `read…` reports problems where they are and goes on.
    /// `readRoot` is here; each section's readers are in `ConfigReader+<Section>.swift`, beside
    /// the model types they build (`Model/`).
    struct Reader {
        let sink: DiagnosticSink
        let folder: String
        /// The folder as the operator named it, so messages show paths the way they were typed.
        let displayFolder: String
        let environment: EnvironmentInterpolation

        func readRoot(_ root: ConfigNode, into config: inout GatewayConfig, hash: inout ContentHash) {
            guard let fields = root.fields(allowed: ConfigLoader.rootKeys, context: "the config") else { return }
            if let node = fields["listen"], let address = readAddress(node, context: "listen") {
                config.listen = address
            }
            if let node = fields["listeners"] { config.listeners = readListeners(node, config: &config, hash: &hash) }
            if fields["listen"] != nil || fields["listeners"] == nil {
                if config.listen.port != 0, config.listeners.contains(where: { $0.listen == config.listen }) {
                    fields["listen"]?.report("listen \(config.listen) is also in listeners; name it once")
                }
                config.listeners.insert(ListenerConfig(listen: config.listen), at: 0)
            } else if let first = config.listeners.first {
                config.listen = first.listen
            }
            if let node = fields["node"] { config.node = readNode(node) }
            if let node = fields["admin"] { config.admin = readAdmin(node) }
            if let node = fields["store"] { config.store = readStore(node) }
            config.store.sqlitePath = ConfigLoader.absolute(config.store.sqlitePath, relativeTo: folder)
            if let node = fields["server"] { config.server = readServer(node) }
            if let node = fields["upstreams"] { config.upstreams = readUpstreams(node) }
            // Upstream certificate files are watched and hashed, as the config is.
            for tls in config.upstreams.compactMap(\.tls) {
                config.sourceFiles += tls.files
                for bytes in [tls.caPEM, tls.certPEM, tls.keyPEM].compactMap({ $0 }) { hash.combine(bytes) }
            }
            if let node = fields["auth"] { config.auth = readAuthMethods(node) }
            if let node = fields["consumers"] { config.consumers = readConsumers(node) }
            if let node = fields["plans"] { config.plans = readPlans(node) }
            if let node = fields["limits"] { config.limits = readLimitsSettings(node) }
            if let node = fields["portal"] { config.portal = readPortal(node) }
            if let node = fields["cache"] { config.cache = readCacheSettings(node) }

            var names: Set<String> = []
            let apiNodes = fields["apis"]?.sequence(context: "apis") ?? []
            let documents = importDocuments(of: apiNodes, authMethods: config.auth)
            for (index, apiNode) in apiNodes.enumerated() {
                guard let api = readAPI(apiNode, index: index, document: documents[index], hash: &hash, config: &config)
                else { continue }
                if !names.insert(api.name + "@" + (api.version ?? "")).inserted {
                    apiNode.report("duplicate API '\(api.name)'" + (api.version.map { " version \($0)" } ?? ""))
                }
                let routeSides = api.routes.flatMap { $0.split?.sides.map(\.upstream) ?? [] }
                let endpointUpstreams = api.routes.flatMap { route in
                    (route.composite?.calls.map(\.upstream) ?? []) + (route.branch?.upstreams ?? [])
                }
                for upstream
                    in (api.split.map({ $0.sides.map(\.upstream) }) ?? (api.upstream.isEmpty ? [] : [api.upstream]))
                    + routeSides + endpointUpstreams
                where upstream != UpstreamConfig.mockName && config.upstream(named: upstream) == nil {
                    let known = (config.upstreams.map(\.name) + [UpstreamConfig.mockName]).joined(separator: ", ")
                    let at =
                        apiNode.node.value(forKey: api.split == nil ? "upstream" : "split").map(apiNode.child)
                        ?? apiNode
                    at.report(
                        "API '\(api.name)' names upstream '\(upstream)', which is not defined (defined: \(known))")
                }
                for mirror in ([api.policies.mirror] + api.routes.map(\.policies.mirror)).compactMap({ $0 })
                where config.upstream(named: mirror.upstream) == nil {
                    let known = config.upstreams.map(\.name).joined(separator: ", ")
                    apiNode.report(
                        "API '\(api.name)' mirrors to upstream '\(mirror.upstream)', which is not defined (defined: \(known))"
                    )
                }
                if api.upstream == UpstreamConfig.mockName, api.openAPIFile == nil {
                    apiNode.report(
                        "API '\(api.name)' uses the mock upstream, which needs an openapi document to answer from")
                }
                config.apis.append(api)
            }
            checkRouteConflicts(config.apis, root: root)
            checkAuthReferences(config, root: root)
            if let mtls = config.auth.first(where: { if case .mtls = $0.kind { true } else { false } }),
                !config.listeners.contains(where: { $0.tls?.clientCAPEM != nil })
            {
                let at = fields["auth"].flatMap { auth in auth.node.value(forKey: mtls.name).map(auth.child) } ?? root
                at.report(
                    "auth method '\(mtls.name)' is mtls, but no listener asks for client certificates (listeners[].tls.client-ca)"
                )
            }
            checkPlans(config, root: root)
            if let plan = config.portal?.plan, config.plans[plan] == nil {
                let defined = config.plans.isEmpty ? "none" : config.plans.keys.sorted().joined(separator: ", ")
                let at =
                    fields["portal"].flatMap { portal in portal.node.value(forKey: "plan").map(portal.child) } ?? root
                at.report("portal.plan '\(plan)' is not defined in plans (defined: \(defined))")
            }
            if let portal = config.portal {
                for api in config.apis where api.basePath == portal.path || api.basePath.hasPrefix(portal.path + "/") {
                    root.report(
                        "API '\(api.name)' uses base-path \(api.basePath), which is under the portal's path \(portal.path); move one of them"
                    )
                }
            }
            // `server.trusted-proxies` and the older `limits.trusted-proxies` are one list.
            let proxies =
                config.server.trustedProxies
                + config.limits.trustedProxies.filter { !config.server.trustedProxies.contains($0) }
            config.server.trustedProxies = proxies
            config.limits.trustedProxies = proxies
            if config.server.healthEndpoints {
                for api in config.apis
                where ["/healthz", "/readyz"].contains(where: { api.basePath == $0 || api.basePath.hasPrefix($0 + "/") }
                ) {
                    root.report(
                        "API '\(api.name)' uses base-path \(api.basePath), which the health endpoints answer; move it or set server.health-endpoints: false"
                    )
                }
            }
            checkVersions(config.apis, root: root)
        }
    }
}
