/// Whether messages are checked against their OpenAPI operation.
package struct ValidationSettings: PolicySettings {
    /// Requests: refused with 400 (`enforce`), forwarded with the problems logged (`report`), or
    /// not checked (`off`, the default).
    package var validate: ValidationMode?
    /// Upstream responses: `report` or `off`.
    package var validateResponses: ValidationMode?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [.take(\.validate), .take(\.validateResponses)]
}
