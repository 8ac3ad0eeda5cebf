import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// Compresses responses as they stream (`compress:`), in the coding `AcceptEncodingPolicy`
/// chose: only listed media types, never event streams, bodies already encoded, partial
/// content, `Cache-Control: no-transform`, or bodies known to be under `min-size`. Every answer
/// whose type could be compressed gets `Vary: Accept-Encoding`; a compressed one loses its
/// `Content-Length` and `Accept-Ranges` and its strong `ETag` becomes weak (the bytes differ).
/// Inside the cache (priority 400 < 500), so the cache keeps the compressed variant.
struct CompressPolicy: Policy {
    let phase = PolicyPhase.request
    let priority = 400
    let types: [String]
    let minSize: Int
    let level: Int

    init(config: CompressConfig) {
        self.types = config.types
        self.minSize = config.minSize
        self.level = config.level
    }

    /// Whether `contentType` is one of the listed types (`text/*`, `application/*+json`).
    func compresses(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        // A stream of events must reach the client as each event is written.
        guard type != "text/event-stream", let slash = type.firstIndex(of: "/") else { return false }
        let major = type[..<slash]
        let minor = type[type.index(after: slash)...]
        return types.contains { pattern in
            guard let patternSlash = pattern.firstIndex(of: "/") else { return false }
            let patternMajor = pattern[..<patternSlash]
            let patternMinor = pattern[pattern.index(after: patternSlash)...]
            guard patternMajor == "*" || patternMajor == major else { return false }
            if patternMinor == "*" { return true }
            if patternMinor.hasPrefix("*+") { return minor.hasSuffix(patternMinor.dropFirst(1)) }
            return patternMinor == minor
        }
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var response = try await next(request, exchange: exchange)
        let status = response.status.code
        guard status >= 200, status != 204, status != 206, status != 304, compresses(response.headers[.contentType])
        else { return response }
        CORSPolicy.addVary("Accept-Encoding", to: &response.headers)
        let coding = request.headers[.acceptEncoding].flatMap(ContentCoding.init(rawValue:))
        let encoding = response.headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased()
        let length = response.body.contentLength ?? response.headers[.contentLength].flatMap { Int($0) }
        let noTransform = response.headers[values: .cacheControl].contains { value in
            value.split(separator: ",").contains {
                $0.trimmingCharacters(in: .whitespaces).lowercased() == "no-transform"
            }
        }
        guard let coding, encoding == nil || encoding == "identity",
            response.headers[HTTPField.Name("Content-Range")!] == nil, !noTransform,
            length.map({ $0 >= minSize }) ?? true
        else { return response }
        response.headers[.contentEncoding] = coding.rawValue
        response.headers[.contentLength] = nil
        response.headers[HTTPField.Name("Accept-Ranges")!] = nil
        if let tag = response.headers[.eTag], !tag.hasPrefix("W/") { response.headers[.eTag] = "W/" + tag }
        let original = response.body
        let level = self.level
        response.body = ResponseBody { writer in
            let compressor = try StreamingCompressor(coding: coding, level: level, expectedLength: length)
            try await original.write(CompressingWriter(base: writer, compressor: compressor))
        }
        return response
    }
}

/// Writes a body through a compressor to the client.
struct CompressingWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let compressor: StreamingCompressor

    mutating func write(_ buffer: ByteBuffer) async throws {
        let compressed = try compressor.compress(buffer)
        if compressed.readableBytes > 0 { try await base.write(compressed) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        let last = try compressor.finish()
        if last.readableBytes > 0 { try await base.write(last) }
        try await base.finish(trailingHeaders)
    }
}
