import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// Edits JSON bodies by JSON pointer (`request-transform.body`, `response-transform.body`).
///
/// A body is held whole to be edited, so only within `max-size`: a larger JSON request body
/// gets 413, and a response is edited only when it declares a length within the limit (others,
/// and bodies that are not JSON or are content-encoded, pass as they are). A request body that
/// says it is JSON and is not gets 400. This policy needs the body, so its routes are served
/// by the streaming path. A gzip or deflate request body is decompressed to be edited, within the
/// same limit (a zip bomb gets 413), and sent on uncompressed.
struct BodyTransformPolicy: Policy {
    let phase = PolicyPhase.request
    let priority = 80
    let request: BodyRules?
    let response: BodyRules?
    let renderer: TemplateRenderer

    init?(request: BodyRules?, response: BodyRules?, renderer: TemplateRenderer) {
        guard request != nil || response != nil else { return nil }
        self.request = request
        self.response = response
        self.renderer = renderer
    }

    /// `application/json` and `application/*+json`, parameters ignored.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var request = request
        let encoding = request.headers[.contentEncoding].map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let coding = encoding.flatMap(ContentCoding.init(rawValue:))
        if let rules = self.request, Self.isJSON(request.headers[.contentType]), encoding == nil || coding != nil {
            var buffer = try await BoundedBody.collect(request, limit: rules.maxSize)
            exchange.bytesIn.add(buffer.readableBytes, ordering: .relaxed)
            // A compressed body is edited as the JSON inside it, within the same limit.
            if let coding { buffer = try BoundedInflater.inflate(buffer, coding: coding, limit: rules.maxSize) }
            var document: JSONValue
            do {
                document = try JSONParser.parse(Array(buffer.readableBytesView))
            } catch {
                throw GatewayError.badRequest("The request body is not valid JSON: \(error).")
            }
            apply(rules, to: &document, exchange: exchange)
            let edited = ByteBuffer(string: document.jsonText)
            var head = request.head
            head.headerFields[.contentLength] = String(edited.readableBytes)
            head.headerFields[.transferEncoding] = nil
            head.headerFields[.contentEncoding] = nil
            // The edited body is what the proxy sends; the client's bytes were counted above.
            request = Request(head: head, body: RequestBody(buffer: edited))
            exchange.bytesIn.subtract(edited.readableBytes, ordering: .relaxed)
        }
        var answer = try await next(request, exchange: exchange)
        guard let rules = self.response, Self.isJSON(answer.headers[.contentType]),
            answer.headers[.contentEncoding] == nil,
            let length = answer.body.contentLength, length <= rules.maxSize
        else { return answer }
        let collector = BufferWriter(limit: rules.maxSize)
        let gathered = collector.gathered
        try await answer.body.write(collector)
        guard var document = try? JSONParser.parse(Array(gathered.buffer.readableBytesView)) else {
            answer.body = ResponseBody(byteBuffer: gathered.buffer)
            return answer
        }
        apply(rules, to: &document, exchange: exchange)
        let edited = ByteBuffer(string: document.jsonText)
        answer.headers[.contentLength] = String(edited.readableBytes)
        // A validator of the upstream's bytes does not describe these.
        if let tag = answer.headers[.eTag], !tag.hasPrefix("W/") { answer.headers[.eTag] = "W/" + tag }
        answer.body = ResponseBody(byteBuffer: edited)
        return answer
    }

    func apply(_ rules: BodyRules, to document: inout JSONValue, exchange: Exchange) {
        for (from, to) in rules.rename {
            if let value = from.remove(from: &document) { to.set(value, in: &document) }
        }
        for pointer in rules.remove { pointer.remove(from: &document) }
        for (pointer, value) in rules.set {
            switch value {
            case .constant(let constant): pointer.set(constant, in: &document)
            case .template(let template):
                pointer.set(.string(renderer.render(template, exchange: exchange, for: .text)), in: &document)
            }
        }
    }
}

/// Gathers a response body into one buffer, up to a limit; `ResponseBody.write` consumes the
/// writer, so what it gathers is read from `gathered`.
struct BufferWriter: ResponseBodyWriter {
    final class Gathered: @unchecked Sendable {
        var buffer = ByteBuffer()
        /// Set when a part did not fit the limit.
        var overflowed = false
    }

    let limit: Int
    let gathered = Gathered()

    mutating func write(_ part: ByteBuffer) async throws {
        guard gathered.buffer.readableBytes + part.readableBytes <= limit else {
            gathered.overflowed = true
            throw GatewayError.badGateway("The upstream's body was longer than it declared.")
        }
        gathered.buffer.writeImmutableBuffer(part)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
