import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The terminal stage of a route with `redirect:`: `Location` rendered from the request
/// (`/shop/items/${path.id}`, values percent-encoded), the client's query kept unless the target
/// has its own.
struct RedirectStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let config: RedirectConfig
    let renderer: TemplateRenderer
    let requestIDHeader: HTTPField.Name

    func location(for exchange: Exchange) -> String {
        var location = renderer.render(config.to, exchange: exchange, for: .url)
        if config.keepQuery, !location.contains("?"), let path = exchange.request.path,
            let question = path.utf8.firstIndex(of: UInt8(ascii: "?"))
        {
            let query = Substring(path.utf8[question...])
            if query.count > 1 { location += query }
        }
        return location
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        try await StaticStage.drain(request, exchange: exchange)
        var headers: HTTPFields = [.location: location(for: exchange), .contentLength: "0"]
        headers.setUnindexed(requestIDHeader, exchange.requestID)
        return Response(status: HTTPResponse.Status(code: config.status), headers: headers, body: .init())
    }
}
