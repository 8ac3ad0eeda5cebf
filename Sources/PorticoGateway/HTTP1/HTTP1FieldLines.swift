import HTTPTypes

/// The field lines of an HTTP/1.1 head or trailer section (RFC 9112 §5), parsed strictly: every
/// line ends in CRLF, a name is a token followed at once by a colon, a value holds no controls
/// but HTAB, and a line that starts with whitespace (obsolete folding) is refused, as RFC 9112
/// §5.2 allows, rather than joined: the ambiguities request smuggling lives on are errors here.
enum HTTP1FieldLines {
    struct Limits: Sendable {
        /// The longest field line, in bytes.
        var fieldSize: Int
        /// All field lines together, in bytes.
        var listSize: Int
        var fieldCount: Int
    }

    /// Parses the lines in `bytes` (each with its CRLF; not the empty line that ends the section).
    /// `visit` sees each field's name, as made, and its value's bytes, before it is appended.
    static func parse(
        _ bytes: UnsafeRawBufferPointer.SubSequence, limits: Limits, into fields: inout HTTPFields,
        visit: (HTTPField.Name, UnsafeRawBufferPointer.SubSequence) throws(HTTP1ParseError) -> Bool
    ) throws(HTTP1ParseError) {
        guard bytes.count <= limits.listSize else {
            throw .headTooLarge("The header fields are larger than \(limits.listSize) bytes.")
        }
        var start = bytes.startIndex
        var count = 0
        while start < bytes.endIndex {
            guard let lf = bytes[start...].firstIndex(of: HTTP1Syntax.lf) else {
                throw .malformed("A header line does not end in CRLF.")
            }
            guard lf > start, bytes[lf - 1] == HTTP1Syntax.cr else {
                throw .malformed("A header line ends in a bare LF.")
            }
            let line = bytes[start..<(lf - 1)]
            start = lf + 1
            guard line.count <= limits.fieldSize else {
                throw .headTooLarge("A header field is larger than \(limits.fieldSize) bytes.")
            }
            count += 1
            guard count <= limits.fieldCount else {
                throw .headTooLarge("More than \(limits.fieldCount) header fields.")
            }
            guard let first = line.first, first != HTTP1Syntax.space, first != HTTP1Syntax.tab else {
                throw .malformed("A header line starts with whitespace (obsolete line folding is not accepted).")
            }
            guard let colon = line.firstIndex(of: HTTP1Syntax.colon), colon > line.startIndex else {
                throw .malformed("A header line has no field name and colon.")
            }
            let nameBytes = line[line.startIndex..<colon]
            for byte in nameBytes where !HTTP1Syntax.isToken(byte) {
                throw .malformed(
                    "A header field name holds a character a token cannot (whitespace before the colon, or a control).")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == HTTP1Syntax.space || line[valueStart] == HTTP1Syntax.tab {
                valueStart += 1
            }
            while valueEnd > valueStart,
                line[valueEnd - 1] == HTTP1Syntax.space || line[valueEnd - 1] == HTTP1Syntax.tab
            { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            for byte in value where !HTTP1Syntax.isFieldValue(byte) {
                throw .malformed("A header field value holds a control character.")
            }
            let name = HTTP1FieldNames.name(nameBytes)
            if try visit(name, value) {
                fields.append(HTTPField(name: name, value: String(decoding: value, as: UTF8.self)))
            }
        }
    }
}
