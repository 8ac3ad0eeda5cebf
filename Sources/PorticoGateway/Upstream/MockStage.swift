import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The terminal stage of `upstream: mock`: answers with the operation's OpenAPI example.
struct MockStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let status: HTTPResponse.Status?
    let contentType: String?
    let body: ByteBuffer
    let requestIDHeader: HTTPField.Name

    init(mock: MockResponse?, requestIDHeader: HTTPField.Name) {
        self.status = mock.map { HTTPResponse.Status(code: $0.status) }
        self.contentType = mock?.contentType
        self.body = ByteBuffer(bytes: mock?.body ?? [])
        self.requestIDHeader = requestIDHeader
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        try await StaticStage.drain(request, exchange: exchange)
        guard let status else { throw GatewayError.noMockExample }
        var headers: HTTPFields = [requestIDHeader: exchange.requestID, HTTPField.Name("X-Portico-Mock")!: "true"]
        if let contentType { headers[.contentType] = contentType }
        exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}
