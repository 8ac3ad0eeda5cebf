import HTTPTypes

/// Field names made from received bytes, with the common ones taken from HTTPTypes' constants
/// (no string made, no validation repeated). A name arrives in any case; these compare without it.
enum HTTP1FieldNames {
    /// `Host`, which HTTPTypes keeps as the request's authority, not as a field.
    static let host = HTTPField.Name("Host")!
    static let keepAlive = HTTPField.Name("Keep-Alive")!

    /// The common names by length, lowercase.
    private static let common: [[(StaticString, HTTPField.Name)]] = {
        let names: [(StaticString, HTTPField.Name)] = [
            ("host", host), ("accept", .accept), ("accept-encoding", .acceptEncoding),
            ("accept-language", .acceptLanguage),
            ("authorization", .authorization), ("cache-control", .cacheControl), ("connection", .connection),
            ("content-length", .contentLength), ("content-type", .contentType), ("content-encoding", .contentEncoding),
            ("cookie", .cookie), ("date", .date), ("etag", .eTag), ("expect", .expect),
            ("if-modified-since", .ifModifiedSince),
            ("if-none-match", .ifNoneMatch), ("keep-alive", keepAlive), ("last-modified", .lastModified),
            ("location", .location), ("origin", .origin), ("pragma", HTTPField.Name("Pragma")!), ("range", .range),
            ("referer", .referer), ("server", .server), ("set-cookie", .setCookie), ("te", .te),
            ("transfer-encoding", .transferEncoding),
            ("upgrade", .upgrade), ("user-agent", .userAgent), ("vary", .vary), ("via", .via), ("age", .age),
            ("expires", .expires),
            ("x-api-key", HTTPField.Name("X-API-Key")!), ("x-request-id", HTTPField.Name("X-Request-Id")!),
            ("x-forwarded-for", HTTPField.Name("X-Forwarded-For")!),
            ("x-forwarded-proto", HTTPField.Name("X-Forwarded-Proto")!),
            ("x-forwarded-host", HTTPField.Name("X-Forwarded-Host")!), ("traceparent", HTTPField.Name("traceparent")!),
            ("accept-ranges", .acceptRanges), ("content-range", .contentRange), ("trailer", .trailer),
            ("sec-websocket-key", .secWebSocketKey), ("sec-websocket-version", .secWebSocketVersion),
            ("sec-websocket-accept", .secWebSocketAccept), ("sec-websocket-protocol", .secWebSocketProtocol),
            ("sec-websocket-extensions", .secWebSocketExtensions), ("proxy-authorization", .proxyAuthorization),
        ]
        var byLength = [[(StaticString, HTTPField.Name)]](repeating: [], count: 32)
        for entry in names { byLength[entry.0.utf8CodeUnitCount].append(entry) }
        return byLength
    }()

    /// The name for `bytes`, which the caller has checked are a token.
    static func name(_ bytes: UnsafeRawBufferPointer.SubSequence) -> HTTPField.Name {
        if bytes.count < common.count {
            for (lowercase, name) in common[bytes.count] where HTTP1Syntax.equalsIgnoringCase(bytes, lowercase) {
                return name
            }
        }
        // A token is a valid name: the initialiser only lowercases it.
        return HTTPField.Name(String(decoding: bytes, as: UTF8.self))!
    }
}
