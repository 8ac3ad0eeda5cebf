import NIOCore

extension Optional where Wrapped == ByteBuffer {
    /// Adds what a read brought to the bytes a parser has not taken yet: the read's own buffer
    /// when nothing waits (no copy), else appended.
    mutating func append(read bytes: ByteBuffer) {
        if self == nil || self!.readableBytes == 0 {
            self = bytes
        } else {
            self!.writeImmutableBuffer(bytes)
        }
    }
}
