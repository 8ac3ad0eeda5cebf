/// One backend call of a composite endpoint: a method and path on an upstream, and what of its
/// answer goes where in the merged result.
package struct BackendCallConfig: Sendable, Hashable {
    /// Unique within the endpoint; other calls read its answer as `calls.NAME`.
    package var name: String
    package var upstream: String
    package var method: String = "GET"
    /// The path and query sent, rendered per request.
    package var path: CallTemplate
    /// Headers set on the call, rendered per request.
    package var headers: [Header] = []
    /// Whether the client's request body is sent with this call.
    package var forwardBody = false
    /// The member of the result the answer goes under; nil merges an object answer into the top level.
    package var group: String?
    /// What of the answer is kept.
    package var rules = MergeRules()
    /// The call's deadline over all its tries; nil takes the route's or the upstream's timeout.
    package var timeout: ConfigDuration?
    /// A required call that fails fails the client's request; an optional one leaves a partial answer.
    package var required = true
    /// Calls this call once per value the selector finds in an earlier call's answer.
    package var forEach: ForEach?
    /// Whether the backend's answers are kept in the gateway's cache, as its `Cache-Control` allows.
    package var cache = false
    /// The largest answer read, in bytes.
    package var maxSize = BackendCallConfig.defaultMaxSize
    /// Where the call was declared, for messages.
    package var location = ""

    package static let defaultMaxSize = 1 << 20

    package struct Header: Sendable, Hashable {
        package var name: String
        package var value: CallTemplate
        package init(name: String, value: CallTemplate) {
            self.name = name
            self.value = value
        }
    }

    /// `for-each: calls.order.body.items[*].product_id`, `as: item`, `concurrency: 8`.
    package struct ForEach: Sendable, Hashable {
        package var call: String
        package var selector: JSONSelector
        /// The element's name in the path and headers.
        package var alias: String
        /// Calls in flight at once.
        package var concurrency: Int
        /// More elements than this fail the call instead of fanning out without bound.
        package var maxItems: Int

        package static let defaultMaxItems = 100

        package init(
            call: String, selector: JSONSelector, alias: String, concurrency: Int = 4,
            maxItems: Int = ForEach.defaultMaxItems
        ) {
            self.call = call
            self.selector = selector
            self.alias = alias
            self.concurrency = concurrency
            self.maxItems = maxItems
        }
    }

    package init(name: String, upstream: String, path: CallTemplate) {
        self.name = name
        self.upstream = upstream
        self.path = path
    }

    /// The calls this one waits for: those its templates read and the one it iterates over.
    package var dependencies: Set<String> {
        var names = path.calls
        for header in headers { names.formUnion(header.value.calls) }
        if let forEach { names.insert(forEach.call) }
        return names
    }
}
