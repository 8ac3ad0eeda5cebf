import HTTPTypes
import Hummingbird
import NIOCore

/// What a `redirect-https` listener answers: 308 to the same host, path and query over HTTPS.
enum HTTPSRedirect {
    static func response(for head: HTTPRequest, httpsPort: Int) -> Response {
        guard let host = self.host(of: head), let path = head.path, path.hasPrefix("/") else {
            return Response(
                status: .badRequest, headers: [.contentType: "text/plain", .connection: "close"],
                body: .init(byteBuffer: ByteBuffer(string: "A Host is required.\n")))
        }
        let location = "https://" + host + (httpsPort == 443 ? "" : ":\(httpsPort)") + path
        return Response(
            status: .permanentRedirect, headers: [.location: location, .contentLength: "0", .connection: "close"])
    }

    /// The host the client named, without its port; nil when it is missing or not a plain host
    /// name or address (so the `Location` cannot be steered to a path or another scheme).
    static func host(of head: HTTPRequest) -> String? {
        guard var authority = head.authority, !authority.isEmpty else { return nil }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            authority = String(authority[...close])
        } else if let colon = authority.lastIndex(of: ":") {
            authority = String(authority[..<colon])
        }
        let allowed = authority.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "[")
                || byte == UInt8(ascii: "]")
                || byte == UInt8(ascii: ":")
        }
        return allowed && !authority.isEmpty ? authority.lowercased() : nil
    }
}
