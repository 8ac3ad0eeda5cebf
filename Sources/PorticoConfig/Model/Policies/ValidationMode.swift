/// How strictly messages are checked against their OpenAPI operation.
package enum ValidationMode: String, Sendable, Hashable, CaseIterable {
    /// An invalid request gets 400 problem+json listing each problem.
    case enforce
    /// Invalid messages pass; their problems go to the call log and the metrics.
    case report
    case off
}
