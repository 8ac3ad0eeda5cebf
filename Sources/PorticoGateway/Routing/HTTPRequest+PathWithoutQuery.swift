import HTTPTypes

extension HTTPRequest {
    /// The path up to its query, found by bytes (no grapheme breaking of a path as long as
    /// the header limit allows); `/` when the head has none.
    var pathWithoutQuery: String {
        guard let path else { return "/" }
        guard let question = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        return String(Substring(path.utf8[..<question]))
    }
}
