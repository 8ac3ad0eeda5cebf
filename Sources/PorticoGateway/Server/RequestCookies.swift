import HTTPTypes

/// Reading one cookie from a request's `Cookie` fields (HTTP/2 sends one field per cookie,
/// HTTP/1.1 one field of `name=value; …` pairs). The first cookie of that name wins, as
/// RFC 6265 section 5.4 orders them; whitespace around a value is not part of it.
package enum RequestCookies {
    package static func value(named name: String, in headers: HTTPFields) -> String? {
        for cookie in headers[values: .cookie].lazy.flatMap({ $0.split(separator: ";") }) {
            let pair = cookie.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace() == name else { continue }
            return String(pair[1].trimmingWhitespace())
        }
        return nil
    }
}
