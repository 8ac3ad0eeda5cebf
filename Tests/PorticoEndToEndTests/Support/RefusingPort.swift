import Glibc
import PorticoTesting

/// A port on 127.0.0.1 that refuses every connection for as long as this lives: a socket bound
/// to it that never listens. Unlike a port found free and closed again, no other server of the
/// test run can take it in the meantime (it would then answer in its place).
final class RefusingPort {
    let port: Int
    private let socket: Int32

    init() throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let socket = self.socket
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Int32 in
                guard Glibc.bind(socket, address, length) == 0 else { return -1 }
                return getsockname(socket, address, &length)
            }
        }
        guard socket >= 0, bound == 0 else {
            Glibc.close(socket)
            throw TestingError("no port to hold: \(String(cString: strerror(errno)))")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { Glibc.close(socket) }
}
