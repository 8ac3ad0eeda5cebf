import PorticoConfig

/// Allow and deny lists as bit masks, checked against an address's bytes without parsing text
/// again: a deny match refuses, then a non-empty allow list must match.
struct CompiledIPRules: Sendable {
    struct Block: Sendable {
        let network: [UInt8]
        let mask: [UInt8]

        init(_ block: CIDRBlock) {
            var mask = [UInt8](repeating: 0, count: block.network.count)
            var remaining = block.prefixLength
            for index in mask.indices where remaining > 0 {
                let bits = min(8, remaining)
                mask[index] = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                remaining -= bits
            }
            self.mask = mask
            self.network = zip(block.network, mask).map { $0 & $1 }
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == network.count else { return false }
            for index in network.indices where address[index] & mask[index] != network[index] { return false }
            return true
        }
    }

    let allow: [Block]
    let deny: [Block]

    init(_ config: IPRulesConfig) {
        self.allow = config.allow.map(Block.init)
        self.deny = config.deny.map(Block.init)
    }

    /// Whether an address (4 or 16 bytes) may call. An IPv4-mapped IPv6 address counts as IPv4.
    func admits(_ bytes: [UInt8]) -> Bool {
        var address = bytes
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            address = Array(address[12...])
        }
        if deny.contains(where: { $0.contains(address) }) { return false }
        return allow.isEmpty || allow.contains { $0.contains(address) }
    }
}
