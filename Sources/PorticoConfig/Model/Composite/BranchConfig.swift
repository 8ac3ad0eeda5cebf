/// A branching endpoint (`branch:`): the request goes whole to the upstream of the first case
/// whose condition holds, or to the default's.
public struct BranchConfig: Sendable, Hashable {
    public var cases: [Case]
    /// The upstream when no condition holds; nil answers 404.
    public var defaultUpstream: String?
    /// The largest request body read to decide on a `body.` condition; a larger one gets 413.
    public var maxBodySize = 1 << 20

    public struct Case: Sendable, Hashable {
        public var condition: BranchCondition
        public var upstream: String
        /// The text as written, for messages and the portal.
        public var text: String
        public init(condition: BranchCondition, upstream: String, text: String) {
            self.condition = condition
            self.upstream = upstream
            self.text = text
        }
    }

    public init(cases: [Case], defaultUpstream: String?) {
        self.cases = cases
        self.defaultUpstream = defaultUpstream
    }

    /// Every upstream the branch can send to.
    public var upstreams: [String] { cases.map(\.upstream) + (defaultUpstream.map { [$0] } ?? []) }

    /// True when a condition reads the body, which must then be read before choosing.
    public var readsBody: Bool { cases.contains { $0.condition.readsBody } }
}
