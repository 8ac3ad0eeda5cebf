import PorticoConfig
import Testing

/// The order-keeping JSON parser and RFC 6901 pointers that body transforms use.
@Suite("JSON parsing and pointers")
struct JSONEditTests {
    @Test("valid documents keep member order, numbers as written, and escapes")
    func parses() throws {
        let text = #"{"b":1.50,"a":[true,false,null,-0.5e+3],"s":"x\"\\\/\b\f\n\r\tz\u00e9\ud83d\ude00","e":{}}"#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value.jsonText.hasPrefix(#"{"b":1.50,"a":[true,false,null,-0.5e+3],"s":"#))
        #expect(value["s"]?.string == "x\"\\/\u{8}\u{C}\n\r\tzé😀")
        #expect(try JSONParser.parse(Array(" [ ] ".utf8)) == .array([]))
    }

    @Test("invalid documents are refused with the offset, deep nesting too")
    func refuses() {
        let bad = [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "+1", "tru", "\"a", "\"\u{1}\"", "{a:1}", "[1] 2",
            "\"\\x\"", "\"\\u12\"",
            "NaN", "// c\n1", "[1 2]",
        ]
        for text in bad {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(Array(text.utf8)) }
        }
        // Bytes that are not UTF-8 inside a string: refused, not replaced.
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bytes) }
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8)) }
        #expect(throws: Never.self) {
            try JSONParser.parse(Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8))
        }
    }

    @Test("pointers read, set (making parents) and remove, with ~0 and ~1 escapes and array indexes")
    func pointers() throws {
        var document = try JSONParser.parse(Array(#"{"a":{"b/c":1,"d~e":[10,20]},"list":[1,2]}"#.utf8))
        #expect(JSONPointer("/a/b~1c")?.value(in: document) == .number("1"))
        #expect(JSONPointer("/a/d~0e/1")?.value(in: document) == .number("20"))
        #expect(JSONPointer("/a/d~0e/01")?.value(in: document) == nil)
        #expect(JSONPointer("a") == nil)
        #expect(JSONPointer("/~2") == nil)
        #expect(JSONPointer("/x/y/z")!.set(.string("new"), in: &document))
        #expect(JSONPointer("/list/-")!.set(.number("3"), in: &document))
        #expect(!JSONPointer("/list/9")!.set(.number("3"), in: &document))
        #expect(!JSONPointer("/list/0/deeper")!.set(.null, in: &document))
        #expect(JSONPointer("/a/b~1c")!.remove(from: &document) == .number("1"))
        #expect(JSONPointer("/nothing")!.remove(from: &document) == nil)
        #expect(document.jsonText == #"{"a":{"d~e":[10,20]},"list":[1,2,3],"x":{"y":{"z":"new"}}}"#)
    }
}
