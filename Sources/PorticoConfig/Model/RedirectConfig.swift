/// A route that answers with a redirect (`redirect:`), for moved APIs.
package struct RedirectConfig: Sendable, Hashable {
    /// Where to: a path or an absolute URL, with placeholders (`/shop/items/${path.id}`).
    package var to: ValueTemplate
    /// 301, 302, 303, 307 or 308.
    package var status: Int
    /// Whether the client's query string is appended when `to` has none.
    package var keepQuery: Bool

    package static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    package init(to: ValueTemplate, status: Int = 308, keepQuery: Bool = true) {
        self.to = to
        self.status = status
        self.keepQuery = keepQuery
    }
}
