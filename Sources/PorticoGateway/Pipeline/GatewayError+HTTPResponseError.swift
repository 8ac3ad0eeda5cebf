import HTTPTypes
import Hummingbird

/// A `GatewayError` thrown from a Hummingbird route (the admin API's, the portal's) answers as
/// problem+json with the request's id, like the data plane's refusals.
extension GatewayError: HTTPResponseError {
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        response(requestID: context.id, instance: request.uri.path, requestIDHeader: HTTPField.Name("X-Request-Id")!)
    }
}
