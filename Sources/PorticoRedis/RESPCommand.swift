import NIOCore

/// A command as RESP sends it: an array of blob strings (`*3\r\n$3\r\nSET\r\n…`).
package struct RESPCommand: Sendable {
    /// The encoded bytes.
    package let bytes: ByteBuffer
    /// The command's name, for errors and logs (never its arguments: they may hold secrets).
    package let name: String

    package init(_ arguments: [String]) {
        self.init(arguments.map { Array($0.utf8) })
    }

    package init(_ arguments: [[UInt8]]) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.count + 16 })
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
        self.bytes = buffer
        self.name = arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

}
