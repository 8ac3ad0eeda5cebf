import HTTPTypes
import Hummingbird
import PorticoConfig

/// Reduces the client's `Accept-Encoding` to the one coding the gateway will answer with
/// (`gzip`, `deflate`, or none), before the cache looks: the cache then keeps one variant per
/// coding instead of one per browser's header, and the upstream is asked for that coding only.
/// `CompressPolicy`, after the cache, compresses what the upstream sent uncompressed.
struct AcceptEncodingPolicy: FastPolicy {
    let phase = PolicyPhase.request
    /// Before the cache (500).
    let priority = 600
    let offered: [ContentCoding]

    init(config: CompressConfig) {
        self.offered = config.encodings.compactMap(ContentCoding.init(rawValue:))
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        let chosen = ContentCoding.negotiate(head.headerFields[values: .acceptEncoding], offered: offered)
        head.headerFields[.acceptEncoding] = chosen?.rawValue
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        var head = request.head
        _ = admit(&head, exchange: exchange)
        return try await next(Request(head: head, body: request.body), exchange: exchange)
    }
}
