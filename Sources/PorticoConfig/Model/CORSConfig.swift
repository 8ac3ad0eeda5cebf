/// Cross-origin resource sharing for browser clients (the Fetch standard's CORS protocol).
///
/// Preflights are answered by the gateway, before auth and without calling the upstream;
/// answers to allowed origins get `Access-Control-*` fields, errors included.
package struct CORSConfig: Sendable, Hashable {
    /// The origins allowed: exact ones, `https://*.example.com`, `~regex`, or `*` for any.
    package var origins: [OriginPattern]
    /// Methods a preflight may ask for; empty means the route's own methods.
    package var methods: [String]
    /// Request headers a preflight may ask for; empty means whatever it asks for.
    package var headers: [String]
    /// Response headers scripts may read beyond the CORS-safelisted ones.
    package var exposeHeaders: [String]
    /// Whether requests with cookies or `Authorization` may be read by scripts.
    package var credentials: Bool
    /// How long a browser may keep a preflight's answer.
    package var maxAge: ConfigDuration?
    /// Whether a request from an origin not allowed gets 403 instead of an answer without CORS fields.
    package var refuse: Bool

    package init(
        origins: [OriginPattern] = [], methods: [String] = [], headers: [String] = [], exposeHeaders: [String] = [],
        credentials: Bool = false, maxAge: ConfigDuration? = nil, refuse: Bool = false
    ) {
        self.origins = origins
        self.methods = methods
        self.headers = headers
        self.exposeHeaders = exposeHeaders
        self.credentials = credentials
        self.maxAge = maxAge
        self.refuse = refuse
    }
}
