import HTTPTypes
import Hummingbird

/// A request context that knows the request's id and the header that carries it, so that every
/// refusal of an API served from its document is problem+json naming that id.
package protocol ProblemContext: RequestContext {
    var requestID: String { get }
    var requestIDHeader: HTTPField.Name { get }
}
