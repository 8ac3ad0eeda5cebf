import NIOCore

/// Finds where an HTTP/1.1 head (or a trailer section) ends: the empty line after its field
/// lines. A bare LF is an error at once (a parser that took it for a line end would see another
/// message here). It remembers how far it looked, so a head that arrives a byte at a time is scanned
/// once, and refuses a head longer than its limit before it is complete.
struct HTTP1HeadScanner {
    let limit: Int
    private var scanned = 0

    init(limit: Int) { self.limit = limit }

    /// The length of the head at the start of `buffer`'s readable bytes, through its closing
    /// CRLF CRLF; nil while it is incomplete.
    mutating func headLength(in buffer: ByteBuffer) throws(HTTP1ParseError) -> Int? {
        let from = scanned
        // -1: a bare LF, which no line of a head may end in.
        // Only the first `limit` bytes are looked at, so where the reads fall never changes the error.
        let limit = self.limit
        let found: Int? = buffer.withUnsafeReadableBytes { bytes -> Int? in
            var i = from
            let end = min(bytes.count, limit)
            while i < end {
                if bytes[i] == HTTP1Syntax.lf {
                    guard i > 0, bytes[i - 1] == HTTP1Syntax.cr else { return -1 }
                    // The end is the LF of "\r\n\r\n".
                    if i >= 3, bytes[i - 2] == HTTP1Syntax.lf, bytes[i - 3] == HTTP1Syntax.cr { return i + 1 }
                }
                i += 1
            }
            return nil
        }
        if found == -1 {
            scanned = 0
            throw .malformed("A line of the head ends in a bare LF, not CRLF.")
        }
        if let found {
            scanned = 0
            return found
        }
        guard buffer.readableBytes < limit else { throw .headTooLarge("The head is larger than \(limit) bytes.") }
        scanned = max(buffer.readableBytes - 3, 0)
        return nil
    }

    /// Starts over for the next message.
    mutating func reset() { scanned = 0 }
}
