/// A branching endpoint (`branch:`): the request goes whole to the upstream of the first case
/// whose condition holds, or to the default's.
package struct BranchConfig: Sendable, Hashable {
    package var cases: [Case]
    /// The upstream when no condition holds; nil answers 404.
    package var defaultUpstream: String?
    /// The largest request body read to decide on a `body.` condition; a larger one gets 413.
    package var maxBodySize = 1 << 20

    package struct Case: Sendable, Hashable {
        package var condition: BranchCondition
        package var upstream: String
        /// The text as written, for messages and the portal.
        package var text: String
        package init(condition: BranchCondition, upstream: String, text: String) {
            self.condition = condition
            self.upstream = upstream
            self.text = text
        }
    }

    package init(cases: [Case], defaultUpstream: String?) {
        self.cases = cases
        self.defaultUpstream = defaultUpstream
    }

    /// Every upstream the branch can send to.
    package var upstreams: [String] { cases.map(\.upstream) + (defaultUpstream.map { [$0] } ?? []) }

    /// True when a condition reads the body, which must then be read before choosing.
    package var readsBody: Bool { cases.contains { $0.condition.readsBody } }
}
