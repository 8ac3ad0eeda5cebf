/// Shadow traffic: a share of a route's requests copied to a second upstream, whose answers are
/// read and dropped (`mirror: {upstream: shop-v2, share: 10%}`).
package struct MirrorConfig: Sendable, Hashable {
    package var upstream: String
    /// From 0 to 1.
    package var share: Double

    package init(upstream: String, share: Double = 1) {
        self.upstream = upstream
        self.share = share
    }
}
