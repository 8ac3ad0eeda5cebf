/// The byte classes of RFC 9110/9112 that the HTTP/1.1 parsers check, one table lookup each.
enum HTTP1Syntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    /// 1: tchar (RFC 9110 §5.6.2); 2: a field value's byte (VCHAR, obs-text, SP, HTAB);
    /// 4: a request target's byte (VCHAR and obs-text, no spaces or controls).
    private static let classes: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for byte in 0..<256 {
            let b = UInt8(byte)
            let visible = b >= 0x21 && b <= 0x7E
            let obsText = b >= 0x80
            if visible || obsText { table[byte] |= 2 | 4 }
            if b == space || b == tab { table[byte] |= 2 }
            if visible, !Array("\"(),/:;<=>?@[\\]{}".utf8).contains(b) { table[byte] |= 1 }
        }
        return table
    }()

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { classes[Int(byte)] & 1 != 0 }
    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool { classes[Int(byte)] & 2 != 0 }
    @inline(__always) static func isTargetByte(_ byte: UInt8) -> Bool { classes[Int(byte)] & 4 != 0 }

    /// ASCII case-insensitive equality of `bytes` with `lowercase` (which must be lowercase).
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let other = lowercase.utf8Start
        var i = 0
        for byte in bytes {
            // Only letters differ by 0x20 between cases; lowercase holds letters, digits and '-'.
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if folded != other[i] { return false }
            i += 1
        }
        return true
    }

    /// A decimal field value such as `Content-Length`: digits only, without overflow.
    static func decimal(_ bytes: UnsafeRawBufferPointer.SubSequence) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// `bytes` without the spaces and tabs around it (optional whitespace, RFC 9110 §5.6.3).
    static func trimmed(_ bytes: UnsafeRawBufferPointer.SubSequence) -> UnsafeRawBufferPointer.SubSequence {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == space || bytes[start] == tab { start += 1 }
        while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
        return bytes[start..<end]
    }

    /// Each item of a comma-separated field value (RFC 9110 §5.6.1), trimmed, without making an
    /// array. Empty items are passed on only when `keepingEmpty` (a list that must not have any).
    static func forEachItem<Failure: Error>(
        _ value: UnsafeRawBufferPointer.SubSequence, keepingEmpty: Bool = false,
        _ body: (UnsafeRawBufferPointer.SubSequence) throws(Failure) -> Void
    ) throws(Failure) {
        var start = value.startIndex
        while true {
            let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            let item = trimmed(value[start..<end])
            if keepingEmpty || !item.isEmpty { try body(item) }
            guard end < value.endIndex else { return }
            start = end + 1
        }
    }
}
