/// Compression of responses by the client's `Accept-Encoding`.
package struct CompressConfig: Sendable, Hashable {
    /// Media types compressed: `application/json`, or `text/*` for a whole type.
    package var types: [String]
    /// Responses known to be smaller than this are sent as they are.
    package var minSize: Int
    /// The zlib level, 1 (fastest) to 9 (smallest).
    package var level: Int
    /// The codings offered, in the gateway's order of preference.
    package var encodings: [String]

    package static let defaultTypes = [
        "text/*", "application/json", "application/*+json", "application/javascript", "application/xml",
        "application/*+xml",
        "image/svg+xml",
    ]
    package static let knownEncodings = ["gzip", "deflate"]

    package init(
        types: [String] = CompressConfig.defaultTypes, minSize: Int = 1024, level: Int = 6,
        encodings: [String] = ["gzip", "deflate"]
    ) {
        self.types = types
        self.minSize = minSize
        self.level = level
        self.encodings = encodings
    }
}
