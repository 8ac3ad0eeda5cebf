import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import Synchronization

/// Everything a request needs, compiled from one config and never changed afterwards.
///
/// A request takes the current snapshot once and uses it to the end, so a reload never changes
/// the rules under a request in flight.
public final class RuntimeSnapshot: Sendable {
    public let config: GatewayConfig
    public let routes: RouteTable
    /// The upstream pools by name.
    public let pools: [String: UpstreamPool]
    /// When this snapshot was compiled.
    public let loadedAt: Date
    /// Requests being served with this snapshot; a replaced snapshot's pools close when it reaches 0.
    let inFlight = Atomic<Int>(0)
    let requestIDHeader: HTTPField.Name

    /// Compiles `config`. Pools named in `reusing` whose settings did not change are kept, with
    /// their open connections, instead of being created anew.
    init(config: GatewayConfig, eventLoopGroup: any EventLoopGroup, reusing previous: [String: UpstreamPool] = [:]) {
        self.config = config
        self.loadedAt = Date()
        let requestIDHeader = HTTPField.Name(config.server.requestIDHeader) ?? HTTPField.Name("X-Request-Id")!
        self.requestIDHeader = requestIDHeader

        var pools: [String: UpstreamPool] = [:]
        for upstream in config.upstreams {
            if let existing = previous[upstream.name], existing.config == upstream {
                pools[upstream.name] = existing
            } else {
                pools[upstream.name] = UpstreamPool(config: upstream, eventLoopGroup: eventLoopGroup)
            }
        }
        self.pools = pools

        var entries: [(host: String?, route: CompiledRoute)] = []
        for api in config.apis {
            let routes = api.routes.isEmpty ? [RouteConfig(path: "/**", name: api.name)] : api.routes
            for route in routes {
                let template = PathTemplate.join(api.basePath, route.path)
                var compiled = CompiledRoute(
                    apiName: api.name,
                    apiVersion: api.version,
                    name: route.name ?? "\(route.methods.joined(separator: ",")) \(template)",
                    template: template,
                    methods: Set(route.methods),
                    basePath: api.basePath,
                    stripBasePath: api.stripBasePath
                )
                let policies = api.policies.overridden(by: route.policies)
                compiled.chain = Self.chain(
                    api: api, route: route, policies: policies, pools: pools, requestIDHeader: requestIDHeader)
                entries.append((api.host, compiled))
            }
        }
        self.routes = RouteTable(routes: entries)
    }

    /// The route's chain: its policies, ending in the proxy or the mock.
    private static func chain(
        api: APIConfig,
        route: RouteConfig,
        policies: PolicyConfig,
        pools: [String: UpstreamPool],
        requestIDHeader: HTTPField.Name
    ) -> PolicyChain {
        var steps: [any Policy] = []
        if let limit = policies.maxBodySize { steps.append(BodySizeLimitPolicy(limit: limit)) }
        if let headers = HeadersPolicy(request: policies.requestHeaders, response: policies.responseHeaders) {
            steps.append(headers)
        }
        let terminal: any Policy
        if let pool = pools[api.upstream] {
            let timeout = policies.timeout ?? pool.config.timeout
            terminal = ProxyStage(
                pool: pool,
                strippedPrefix: api.stripBasePath ? api.basePath : nil,
                upstreamBasePath: api.upstreamBasePath,
                timeout: TimeAmount.milliseconds(timeout.milliseconds),
                retrySafe: policies.retrySafe ?? false,
                requestIDHeader: requestIDHeader
            )
        } else {
            terminal = MockStage(mock: route.mock, requestIDHeader: requestIDHeader)
        }
        return PolicyChain(policies: steps, terminal: terminal)
    }
}
