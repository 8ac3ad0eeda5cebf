/// The protocol an upstream's targets speak (`protocol:`).
package enum UpstreamProtocol: String, Sendable, Hashable {
    /// HTTP/1.1, with kept-alive connections (the default).
    case http1 = "http/1.1"
    /// HTTP/2: to `http://` targets with prior knowledge (h2c), one multiplexed connection per
    /// target and event loop; to `https://` targets by ALPN. gRPC upstreams need it.
    case h2
}
