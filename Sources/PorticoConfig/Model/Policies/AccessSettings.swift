/// Who may call (`AuthPolicy`): the methods, the groups and scopes the caller needs, and what
/// becomes of the credential and of a request without one.
package struct AccessSettings: PolicySettings {
    /// `auth: [keys, partner-jwt]`, `auth: none`, or an OpenAPI `security` list.
    package var auth: AuthRequirement?
    /// Consumer groups of which the caller must be in at least one.
    package var allowGroups: [String]?
    /// Consumer groups whose members are refused.
    package var denyGroups: [String]?
    /// Scopes the caller must hold, whichever method it used.
    package var scopes: [String]?
    /// Whether the credential (key, token, password) is forwarded to the upstream; it is stripped by default.
    package var forwardCredential: Bool?
    /// The consumer a request with no credential at all is served as; without it such a request gets 401.
    package var anonymous: String?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [
        .take(\.auth), .take(\.allowGroups), .take(\.denyGroups), .take(\.scopes), .take(\.forwardCredential),
        .take(\.anonymous),
    ]
}
