/// Cross-origin resource sharing for browser clients (the Fetch standard's CORS protocol).
///
/// Preflights are answered by the gateway, before auth and without calling the upstream;
/// answers to allowed origins get `Access-Control-*` fields, errors included.
public struct CORSConfig: Sendable, Hashable {
    /// The origins allowed: exact ones, `https://*.example.com`, `~regex`, or `*` for any.
    public var origins: [OriginPattern]
    /// Methods a preflight may ask for; empty means the route's own methods.
    public var methods: [String]
    /// Request headers a preflight may ask for; empty means whatever it asks for.
    public var headers: [String]
    /// Response headers scripts may read beyond the CORS-safelisted ones.
    public var exposeHeaders: [String]
    /// Whether requests with cookies or `Authorization` may be read by scripts.
    public var credentials: Bool
    /// How long a browser may keep a preflight's answer.
    public var maxAge: ConfigDuration?
    /// Whether a request from an origin not allowed gets 403 instead of an answer without CORS fields.
    public var refuse: Bool

    public init(
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
