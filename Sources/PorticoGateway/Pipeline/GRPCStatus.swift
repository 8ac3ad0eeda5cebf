import HTTPTypes

/// What a gRPC client understands of an answer: `grpc-status` and `grpc-message` in the
/// trailers of an HTTP 200 (gRPC over HTTP/2, PROTOCOL-HTTP2.md), never a problem+json body.
///
/// Gateway errors to a gRPC request are answered so, with the code that says what happened:
/// a missing or bad credential `UNAUTHENTICATED`, a refused group `PERMISSION_DENIED`, a limit
/// `RESOURCE_EXHAUSTED`, an unreachable or failing upstream `UNAVAILABLE` (gRPC's mapping of
/// HTTP statuses, with limits kept apart as they are not worth retrying at once).
enum GRPCStatus {
    static let status = HTTPField.Name("grpc-status")!
    static let message = HTTPField.Name("grpc-message")!
    private static let grpcType = "application/grpc"

    /// Whether `fields` are those of a gRPC request (`application/grpc`, `application/grpc+proto`…;
    /// not gRPC-Web, which carries its status in the body).
    static func isGRPC(_ fields: HTTPFields) -> Bool {
        // Asked of every request on the event-loop path: compared byte by byte, no string made.
        guard let type = fields[.contentType] else { return false }
        var bytes = type.utf8.makeIterator()
        for expected in grpcType.utf8 {
            guard let byte = bytes.next(), byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0) == expected else {
                return false
            }
        }
        guard let next = bytes.next() else { return true }
        return next == UInt8(ascii: "+") || next == UInt8(ascii: ";")
    }

    /// The gRPC code for a gateway answer of `status`.
    static func code(forHTTPStatus status: Int) -> Int {
        switch status {
        case 400, 422: return 3  // INVALID_ARGUMENT
        case 401: return 16  // UNAUTHENTICATED
        case 403: return 7  // PERMISSION_DENIED
        case 404, 405, 501: return 12  // UNIMPLEMENTED
        case 408, 504: return 4  // DEADLINE_EXCEEDED
        case 413, 429: return 8  // RESOURCE_EXHAUSTED
        case 502, 503: return 14  // UNAVAILABLE
        default: return status >= 500 ? 13 : 2  // INTERNAL, UNKNOWN
        }
    }

    /// The codes that say the server failed (not the caller): counted against the target by
    /// health checks and breakers, as a 5xx is.
    static func isServerFailure(_ code: Int) -> Bool {
        code == 2 || code == 4 || code == 13 || code == 14 || code == 15
    }

    /// The `grpc-status` in `fields`, if it is a number.
    static func code(in fields: HTTPFields?) -> Int? {
        guard let value = fields?[status], value.utf8.count <= 3 else { return nil }
        return Int(value)
    }

    /// Removes the status fields (`grpc-status`, `grpc-message`, `grpc-status-details-bin`) from
    /// a trailers-only head and returns them, to be sent as trailers.
    static func takeStatus(from fields: inout HTTPFields) -> HTTPFields {
        var taken = HTTPFields()
        for name in [status, message, details] {
            for value in fields[values: name] { taken.append(HTTPField(name: name, value: value)) }
            fields[name] = nil
        }
        return taken
    }

    static let details = HTTPField.Name("grpc-status-details-bin")!

    /// The answer to a gRPC request that the gateway refuses: a 200 head that keeps the error's
    /// fields (request id, `WWW-Authenticate`, `Retry-After`, `RateLimit`), and the trailers.
    static func answer(to problem: HTTPResponse, detail: String) -> (head: HTTPResponse, trailers: HTTPFields) {
        var head = HTTPResponse(status: .ok)
        for field in problem.headerFields where field.name != .contentType && field.name != .contentLength {
            head.headerFields.append(field)
        }
        head.headerFields[.contentType] = "application/grpc"
        var trailers = HTTPFields()
        trailers[status] = String(code(forHTTPStatus: problem.status.code))
        trailers[message] = percentEncoded(detail)
        return (head, trailers)
    }

    /// `grpc-message` is percent-encoded UTF-8: every byte outside printable ASCII, and `%`.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8.prefix(1024) {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
