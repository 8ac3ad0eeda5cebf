import HTTPTypes
import PorticoConfig

/// The client's address: the socket's peer, or, when the peer is a trusted proxy, the first
/// address from the right of `X-Forwarded-For` that is not a trusted proxy.
///
/// Without trusted proxies `X-Forwarded-For` is ignored: anyone can send it.
struct ClientAddress: Sendable {
    let trusted: [CIDRBlock]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    init(trustedProxies: [String]) {
        self.trusted = trustedProxies.compactMap(CIDRBlock.init(parsing:))
    }

    func resolve(peer: String?, headers: HTTPFields) -> String? {
        guard let peer, !trusted.isEmpty, isTrusted(peer) else { return peer }
        let hops = headers[values: Self.forwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        for hop in hops.reversed() where !isTrusted(hop) {
            return CIDRBlock.bytes(of: hop) == nil ? peer : hop
        }
        return hops.first ?? peer
    }

    /// Whether `address` is one of the trusted proxies.
    func isTrusted(_ address: String?) -> Bool {
        guard let address, !trusted.isEmpty else { return false }
        return trusted.contains { $0.contains(address) }
    }
}
