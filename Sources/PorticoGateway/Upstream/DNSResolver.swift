import PorticoConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Resolves a name to its addresses with the system resolver (`getaddrinfo`), so `/etc/hosts`,
/// search domains and the cluster's DNS all apply. It blocks: call it off the event loops.
enum DNSResolver {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The name's addresses, de-duplicated and sorted, IPv6 ones in brackets.
    static func resolve(_ name: String, family: DNSTargetsConfig.Family) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = family == .ipv4 ? AF_INET : family == .ipv6 ? AF_INET6 : AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else { throw Failure(description: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: Set<String> = []
        var entry = list
        while let current = entry?.pointee {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if current.ai_family == AF_INET, let address = current.ai_addr {
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin_addr
                    if inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)) != nil {
                        addresses.insert(String(cString: buffer))
                    }
                }
            } else if current.ai_family == AF_INET6, let address = current.ai_addr {
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin6_addr
                    if inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil {
                        addresses.insert("[" + String(cString: buffer) + "]")
                    }
                }
            }
            entry = current.ai_next
        }
        return addresses.sorted()
    }
}
