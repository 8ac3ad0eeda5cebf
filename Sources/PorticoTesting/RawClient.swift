import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A TCP client that sends exactly the bytes it is given, for requests no HTTP library would
/// send (a second `Host`, a broken chunked body, a head that trickles in), and reads what comes
/// back. Its socket calls block, so each runs on a thread of its own, never on the cooperative
/// pool that the gateway under test runs on. Meant for tests on 127.0.0.1.
package final class RawClient: @unchecked Sendable {
    private let socket: Int32

    /// Connects to `127.0.0.1:port`; waits at most `timeout` for each read.
    package static func connect(port: Int, timeout: Duration = .seconds(10)) async throws -> RawClient {
        try await offload { try RawClient(port: port, timeout: timeout) }
    }

    /// Runs blocking work on a thread of its own. Not on Dispatch's pool: the suite's many
    /// blocking reads (some waiting out long timeouts) can take all of its threads, and a send
    /// queued behind them would wait for seconds.
    package static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private init(port: Int, timeout: Duration) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawClientError(message: "socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw RawClientError(message: "connect() failed: \(errno)")
        }
        var time = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    package struct RawClientError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// Sends `text` as bytes; false when the connection is gone.
    @discardableResult
    package func send(_ text: String) async -> Bool {
        (try? await Self.offload { self.sendNow(text) }) ?? false
    }

    /// Sends `bytes` as they are (binary protocols); false when the connection is gone.
    @discardableResult
    package func send(bytes: [UInt8]) async -> Bool {
        (try? await Self.offload { self.sendNow(bytes) }) ?? false
    }

    /// Everything until the peer closes or a read times out.
    package func readAll() async -> String {
        String(decoding: await readAllBytes(), as: UTF8.self)
    }

    /// Everything until the peer closes (or resets) or a read times out, as bytes.
    package func readAllBytes() async -> [UInt8] {
        (try? await Self.offload { self.readAllNow() }) ?? []
    }

    /// What one read returns: the bytes that have arrived, or none when the peer closed or the
    /// read timed out.
    package func readSome() async -> [UInt8] {
        (try? await Self.offload { self.readSomeNow() }) ?? []
    }

    private func readSomeNow() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    /// One response: the head, then `Content-Length` bytes of body (or until close).
    package func readResponse() async -> RawResponse? {
        (try? await Self.offload { self.readResponseNow() }) ?? nil
    }

    /// Whether the peer has closed the connection: a read returns end of file (not a timeout).
    package func isClosedByPeer() async -> Bool {
        (try? await Self.offload { self.isClosedByPeerNow() }) ?? false
    }

    private func sendNow(_ text: String) -> Bool { sendNow(Array(text.utf8)) }

    private func sendNow(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Closes the sending side: the peer sees the end of the request stream.
    package func shutdownWrite() { Glibc.shutdown(socket, Int32(SHUT_WR)) }

    /// Resets the connection (SO_LINGER 0): the peer's next read fails, as when a client crashes.
    package func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    private func readAllNow() -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data += buffer[..<count]
        }
        return data
    }

    private func readResponseNow() -> RawResponse? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let response = RawResponse(parsing: data) { return response }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return RawResponse(parsing: data, closed: true) }
            data += buffer[..<count]
        }
    }

    private func isClosedByPeerNow() -> Bool {
        var byte: UInt8 = 0
        let count = recv(socket, &byte, 1, 0)
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }
}

/// A response read by `RawClient`.
package struct RawResponse: Sendable {
    package let status: Int
    /// Header names lowercased.
    package let headers: [(name: String, value: String)]
    package let body: String

    package func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }

    init?(parsing data: [UInt8], closed: Bool = false) {
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."), statusLine.count >= 12,
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let body = String(text[end.upperBound...])
        if let length = headers.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }) {
            guard body.utf8.count >= length else { return nil }
            self.body = String(body.utf8.prefix(length))!
        } else if headers.contains(where: { $0.0 == "transfer-encoding" }) {
            guard closed || body.hasSuffix("0\r\n\r\n") else { return nil }
            self.body = body
        } else {
            self.body = body
        }
        self.status = status
        self.headers = headers
    }
}
