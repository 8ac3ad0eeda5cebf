import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore

/// A target's answer to one try of the streaming path, from whichever client sent it:
/// AsyncHTTPClient (HTTP/1.1, and HTTP/2 over TLS), or the gateway's own HTTP/2 client on a
/// stream (`H2StreamedCall`, for `protocol: h2`).
enum UpstreamAnswer: Sendable {
    case client(HTTPClientResponse)
    case stream(HTTPResponse, H2StreamedCall)

    /// The target's head, as it sent it.
    var head: HTTPResponse {
        switch self {
        case .client(let response):
            var fields = HTTPFields()
            fields.reserveCapacity(response.headers.count + 2)
            for (name, value) in response.headers {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return HTTPResponse(
                status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                headerFields: fields)
        case .stream(let head, _):
            return head
        }
    }

    /// The whole body, refused past `limit` bytes.
    func collect(upTo limit: Int) async throws -> ByteBuffer {
        switch self {
        case .client(let response):
            return try await response.body.collect(upTo: limit)
        case .stream(_, let call):
            var whole = ByteBuffer()
            for try await chunk in call.body {
                guard whole.readableBytes <= limit - chunk.readableBytes else { throw UpstreamFailure.malformed }
                whole.writeImmutableBuffer(chunk)
            }
            return whole
        }
    }

    /// Lets go of an answer whose body is not wanted (a retried one), so its connection or
    /// stream is freed.
    func discard(upTo limit: Int) async {
        switch self {
        case .client(let response): _ = try? await response.body.collect(upTo: limit)
        case .stream(_, let call): call.discard()
        }
    }

    /// Writes the body to `writer` as it comes, counting each piece, then the target's trailers.
    func stream(to writer: inout any ResponseBodyWriter, counting: (Int) -> Void) async throws {
        switch self {
        case .client(let response):
            for try await chunk in response.body {
                counting(chunk.readableBytes)
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        case .stream(_, let call):
            for try await chunk in call.body {
                counting(chunk.readableBytes)
                try await writer.write(chunk)
            }
            try await writer.finish(call.trailers)
        }
    }
}
