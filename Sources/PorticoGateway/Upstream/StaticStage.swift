import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The terminal stage of a route with `respond:`: the gateway's own fixed answer (a maintenance
/// page, a stub), after the route's policies, as any upstream's answer would be.
struct StaticStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer
    let requestIDHeader: HTTPField.Name

    init(config: StaticResponseConfig, requestIDHeader: HTTPField.Name) {
        self.status = HTTPResponse.Status(code: config.status)
        var headers = HTTPFields()
        for pair in config.headers {
            if let name = HTTPField.Name(pair.name) { headers.append(HTTPField(name: name, value: pair.value)) }
        }
        if headers[.contentType] == nil, !config.body.isEmpty {
            headers[.contentType] = config.contentType ?? "text/plain; charset=utf-8"
        }
        self.headers = headers
        self.body = ByteBuffer(string: config.body)
        self.requestIDHeader = requestIDHeader
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        try await StaticStage.drain(request, exchange: exchange)
        var headers = self.headers
        headers.setUnindexed(requestIDHeader, exchange.requestID)
        exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// Reads and drops the request body (bounded by the guard's limits) so the connection can be reused.
    static func drain(_ request: Request, exchange: Exchange) async throws {
        for try await chunk in request.body { exchange.bytesIn.add(chunk.readableBytes, ordering: .relaxed) }
    }
}
