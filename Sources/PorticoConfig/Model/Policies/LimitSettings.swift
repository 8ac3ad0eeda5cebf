/// Rate limits and quotas on these routes, on top of the consumer's plan.
package struct LimitSettings: PolicySettings {
    /// The limits; the more specific level's list replaces the other's.
    package var rateLimits: [LimitConfig]?
    /// What one request counts against rate limits and quotas (default 1).
    package var cost: Int?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [.take(\.rateLimits), .take(\.cost)]
}
