/// How the data plane canonicalizes request paths (`server.path`).
package struct PathSettings: Sendable, Hashable {
    /// What to do with `%2F` and `%5C` in a path, after Envoy's `path_with_escaped_slashes_action`.
    package enum EscapedSlashes: String, Sendable, Hashable, CaseIterable {
        /// Answer 400 (the default).
        case reject
        /// Route and forward them encoded, as part of one segment.
        case keep
        /// Decode them into `/`, a segment separator, before matching.
        case decode
    }

    package var escapedSlashes = EscapedSlashes.reject
    /// Whether `//` counts as `/`, as nginx's `merge_slashes` (on by default).
    package var mergeSlashes = true

    package init() {}
}

/// What the data plane does with a request header whose name holds `_` (`server.headers-with-underscores`).
///
/// CGI, WSGI, Rack and PHP read `X_Consumer_Name` as `X-Consumer-Name`, so such a header could
/// stand in for one the gateway sets or removes.
package enum UnderscoreHeaders: String, Sendable, Hashable, CaseIterable {
    /// Remove the header (the default, as nginx does).
    case drop
    /// Answer 400.
    case reject
    /// Forward it, except when it spells an identity or forwarding header.
    case allow
}
