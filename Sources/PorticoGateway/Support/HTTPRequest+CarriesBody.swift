import HTTPTypes

extension HTTPRequest {
    /// Whether the head says a body follows (RFC 9112 section 6.3): `Transfer-Encoding` (which
    /// wins over any `Content-Length`), or a `Content-Length` other than 0. Without either there
    /// is none.
    package var carriesBody: Bool {
        if headerFields.contains(.transferEncoding) { return true }
        return headerFields[.contentLength].map { $0 != "0" } ?? false
    }
}
