/// Which client addresses may call: a deny list checked first, then an allow list (when one is
/// given, an address must be in it). The address is the one the trusted-proxy settings resolve.
public struct IPRulesConfig: Sendable, Hashable {
    public var allow: [CIDRBlock]
    public var deny: [CIDRBlock]

    public init(allow: [CIDRBlock] = [], deny: [CIDRBlock] = []) {
        self.allow = allow
        self.deny = deny
    }
}
