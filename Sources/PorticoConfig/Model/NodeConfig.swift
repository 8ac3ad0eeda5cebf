import Foundation

/// `node: {id: …}`: which node of a cluster this is. Each node's config is its own file; the id
/// tells the nodes apart in `/admin/status` and in the logs.
package struct NodeConfig: Sendable, Hashable {
    /// Defaults to the host's name.
    package var id: String = ProcessInfo.processInfo.hostName

    package init() {}

    /// The longest id: it is shown and logged, never parsed.
    package static let maximumIDBytes = 128
}
