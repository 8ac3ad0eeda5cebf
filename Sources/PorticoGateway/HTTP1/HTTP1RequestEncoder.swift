import HTTPTypes
import NIOCore

/// Writes a request head as HTTP/1.1 bytes for a target, straight from HTTPTypes: the request
/// line from the method and path, `Host` from the authority, then the fields as they are (their
/// names and values were validated when they were made). Cookie fields, which HTTP/2 clients
/// send one crumb each, become the one `Cookie` line HTTP/1.1 allows (RFC 6265 §5.4).
enum HTTP1RequestEncoder {
    static func encode(_ head: HTTPRequest, into buffer: inout ByteBuffer) {
        buffer.writeString(head.method.rawValue)
        buffer.writeInteger(HTTP1Syntax.space)
        buffer.writeString(head.path ?? "/")
        buffer.writeStaticString(" HTTP/1.1\r\n")
        if let authority = head.authority {
            buffer.writeStaticString("Host: ")
            buffer.writeString(authority)
            buffer.writeStaticString("\r\n")
        }
        var cookieWritten = false
        for field in head.headerFields {
            if field.name == .cookie {
                if cookieWritten { continue }
                cookieWritten = true
                buffer.writeStaticString("Cookie: ")
                buffer.writeString(head.headerFields[.cookie] ?? field.value)
                buffer.writeStaticString("\r\n")
                continue
            }
            HTTP1ResponseEncoder.write(field, into: &buffer)
        }
        buffer.writeStaticString("\r\n")
    }
}
