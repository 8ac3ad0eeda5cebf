/// How a request is forwarded and its answer returned: header edits, the body limit, the
/// upstream's timeout and whether a non-idempotent request may be retried.
package struct ForwardingSettings: PolicySettings {
    /// Headers set on, added to or removed from the request before it is forwarded.
    package var requestHeaders: HeaderRules?
    /// Headers set on, added to or removed from the response before it is returned.
    package var responseHeaders: HeaderRules?
    /// The largest request body accepted, in bytes; larger ones get 413.
    package var maxBodySize: Int?
    /// Overrides the upstream's timeout for the response head.
    package var timeout: ConfigDuration?
    /// Marks a non-idempotent route (a POST) as safe to retry.
    package var retrySafe: Bool?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [
        .take(\.requestHeaders), .take(\.responseHeaders), .take(\.maxBodySize), .take(\.timeout), .take(\.retrySafe),
    ]
}
