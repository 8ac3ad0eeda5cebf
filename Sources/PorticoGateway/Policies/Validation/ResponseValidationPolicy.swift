import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// Checks the upstream's responses against the operation (`validate-responses: report`), for
/// contract testing against a real upstream: an undocumented status, a media type the document
/// does not give, or a body that breaks its schema goes into the call record and the metrics.
/// The response itself passes unchanged.
///
/// Runs closest to the upstream, so it sees the upstream's own bytes. Only bodies that declare a
/// length within `limit` are read; event streams and larger or unsized bodies are checked by
/// status and media type alone.
struct ResponseValidationPolicy: Policy {
    let phase = PolicyPhase.request
    let priority = 5
    let contract: OperationContract
    let limit: Int

    static let defaultLimit = 1024 * 1024

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var response = try await next(request, exchange: exchange)
        let status = Int(response.status.code)
        let contentType = response.headers[.contentType]
        let encoded = response.headers[.contentEncoding].map { $0 != "identity" } ?? false
        guard let length = response.body.contentLength, length <= limit, !encoded,
            !(contentType?.lowercased().hasPrefix("text/event-stream") ?? false)
        else {
            let issues = contract.validate(response: status, contentType: contentType, body: [])
                .filter { !$0.pointer.hasPrefix("/response/body") }
            if !issues.isEmpty { exchange.recordValidation("response", issues) }
            return response
        }
        let collector = BufferWriter(limit: limit)
        let gathered = collector.gathered
        try await response.body.write(collector)
        let bytes = Array(gathered.buffer.readableBytesView)
        let issues = contract.validate(response: status, contentType: contentType, body: bytes)
        if !issues.isEmpty { exchange.recordValidation("response", issues) }
        response.body = ResponseBody(byteBuffer: gathered.buffer)
        return response
    }
}
