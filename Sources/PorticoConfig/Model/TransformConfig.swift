/// Edits to a request before it is forwarded (`request-transform`) or to a response before it is
/// returned (`response-transform`). Header and query edits apply in the order rename, remove,
/// set, add; body edits in the order rename, remove, set.
package struct TransformConfig: Sendable, Hashable {
    package var headers: TemplateRules
    /// Query parameters; requests only.
    package var query: TemplateRules
    /// The path the upstream is sent, below its base path (`/users/{id}?version=1`); requests only.
    package var path: ValueTemplate?
    /// Edits to a JSON body by JSON pointer (RFC 6901).
    package var body: BodyRules?

    package init(
        headers: TemplateRules = .init(), query: TemplateRules = .init(), path: ValueTemplate? = nil,
        body: BodyRules? = nil
    ) {
        self.headers = headers
        self.query = query
        self.path = path
        self.body = body
    }
}
