import PorticoConfig
import PorticoGateway

/// Mounts the developer portal on the data-plane listener of every config that has `portal:`.
package struct PortalMounting: GatewayMounting {
    package init() {}

    package func mount(for config: GatewayConfig, services: MountServices) -> (any GatewayMount)? {
        config.portal.map { portal in
            PortalAPI(
                config: config, portal: portal, authenticators: services.authenticators, consumers: services.consumers,
                requestIDHeader: services.requestIDHeader, analytics: services.analytics, failures: services.failures)
        }
    }
}
