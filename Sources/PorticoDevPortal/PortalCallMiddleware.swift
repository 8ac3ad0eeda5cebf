import HTTPTypes
import Hummingbird

/// Binds `PortalCall.current` for the operations after it, and writes the cookies they set.
struct PortalCallMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let call = PortalCall(request: request, clientAddress: context.clientAddress, snapshot: context.snapshot)
        var response = try await PortalCall.$current.withValue(call) { try await next(request, context) }
        for cookie in call.cookies.all { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }
}
