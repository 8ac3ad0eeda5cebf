/// Which client addresses may call: a deny list checked first, then an allow list (when one is
/// given, an address must be in it). The address is the one the trusted-proxy settings resolve.
package struct IPRulesConfig: Sendable, Hashable {
    package var allow: [CIDRBlock]
    package var deny: [CIDRBlock]

    package init(allow: [CIDRBlock] = [], deny: [CIDRBlock] = []) {
        self.allow = allow
        self.deny = deny
    }
}
