/// How the data plane canonicalizes request paths (`server.path`).
public struct PathSettings: Sendable, Hashable {
    /// What to do with `%2F` and `%5C` in a path, after Envoy's `path_with_escaped_slashes_action`.
    public enum EscapedSlashes: String, Sendable, Hashable, CaseIterable {
        /// Answer 400 (the default).
        case reject
        /// Route and forward them encoded, as part of one segment.
        case keep
        /// Decode them into `/`, a segment separator, before matching.
        case decode
    }

    public var escapedSlashes = EscapedSlashes.reject
    /// Whether `//` counts as `/`, as nginx's `merge_slashes` (on by default).
    public var mergeSlashes = true

    public init() {}
}

/// What the data plane does with a request header whose name holds `_` (`server.headers-with-underscores`).
///
/// CGI, WSGI, Rack and PHP read `X_Consumer_Name` as `X-Consumer-Name`, so such a header could
/// stand in for one the gateway sets or removes.
public enum UnderscoreHeaders: String, Sendable, Hashable, CaseIterable {
    /// Remove the header (the default, as nginx does).
    case drop
    /// Answer 400.
    case reject
    /// Forward it, except when it spells an identity or forwarding header.
    case allow
}
