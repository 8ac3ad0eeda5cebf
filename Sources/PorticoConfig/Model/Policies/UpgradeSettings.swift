/// `Upgrade` requests (WebSocket).
package struct UpgradeSettings: PolicySettings {
    /// Whether they are tunnelled to the upstream after the handshake passed the policies; without
    /// it they are proxied as plain requests, `Upgrade` removed.
    package var websocket: Bool?
    /// How long an upgraded connection may carry no byte either way before it is closed.
    package var streamIdleTimeout: ConfigDuration?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [.take(\.websocket), .take(\.streamIdleTimeout)]
}
