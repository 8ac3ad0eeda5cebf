import HTTPTypes
import Hummingbird
import PorticoOpenAPIServer

/// The admin listener's context: its refusals carry the id Hummingbird gave the request, as `X-Request-Id`.
extension BasicRequestContext: ProblemContext {
    package var requestID: String { id }
    package var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
}
