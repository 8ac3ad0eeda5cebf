import Foundation
import PorticoConfig
import Testing

@testable import PorticoStore

/// The access log's line, formatted as bytes: the same JSON the string formatting gave.
@Suite("Access-log lines")
struct AccessLogLineTests {
    @Test("a full record and an empty one, with escapes, as exact JSON")
    func exactLine() throws {
        var record = CallRecord(
            time: Date(timeIntervalSince1970: 1_764_590_400.1234), requestID: "r-1", method: "GET",
            path: "/a\"b\\c\n\u{1}é",
            api: "pets", version: "v2", consumer: "app", route: "getPet", status: 200, bytesIn: 0, bytesOut: 1_234_567,
            totalMilliseconds: 12, upstreamMilliseconds: 0.1256, target: "http://127.0.0.1:9", clientAddress: "::1",
            error: nil,
            retries: 2)
        record.keyPrefix = "ptk_AbCd"
        record.rateLimit = "allowed default r=9"
        record.cache = "hit"
        record.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        record.mirror = "201 3.5ms"
        record.protocolVersion = "2"
        record.validation = "request /query/limit: expected at most 100, found 500"
        #expect(
            record.jsonLine
                == #"{"time":"2025-12-01T12:00:00.123Z","request_id":"r-1","method":"GET","path":"/a\"b\\c\n\u0001é","api":"pets","version":"v2","consumer":"app","route":"getPet","status":200,"bytes_in":0,"bytes_out":1234567,"total_ms":12.0,"upstream_ms":0.126,"target":"http://127.0.0.1:9","client":"::1","retries":2,"key_prefix":"ptk_AbCd","rate_limit":"allowed default r=9","cache":"hit","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","mirror":"201 3.5ms","protocol":"2","validation":"request /query/limit: expected at most 100, found 500","error":null}"#
        )
        let bare = CallRecord(
            time: Date(timeIntervalSince1970: 0), requestID: "", method: "GET", path: "/", api: nil, route: nil,
            status: 404,
            bytesIn: 0, bytesOut: 0, totalMilliseconds: 0, upstreamMilliseconds: nil, target: nil, clientAddress: nil,
            error: "no-route")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(bare.jsonLine.utf8)) as? [String: Any])
        #expect(parsed["time"] as? String == "1970-01-01T00:00:00.000Z")
        #expect(parsed["upstream_ms"] is NSNull)
        #expect(parsed["error"] as? String == "no-route")
        #expect(bare.jsonLine.contains(#""total_ms":0.0,"#))
    }

    @Test("times before 1970, far outside the calendar, or not a number are written, not trapped on")
    func oddTimes() {
        #expect(CallRecord.timestamp(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
        #expect(CallRecord.timestamp(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59.999Z")
        #expect(CallRecord.timestamp(Date(timeIntervalSince1970: -1e300)) == "0001-01-01T00:00:00.000Z")
        #expect(CallRecord.timestamp(Date(timeIntervalSince1970: .nan)) == "1970-01-01T00:00:00.000Z")
        #expect(CallRecord.timestamp(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59.999Z")
    }

    @Test("milliseconds are written as String(Double) writes them, rounded to three decimals")
    func milliseconds() {
        var values: [Double] = [
            0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.9995, 1, 1.5, 10.25, 999.999, 60_000, 123_456.789,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { values.append(Double.random(in: 0..<100_000, using: &generator)) }
        for value in values {
            #expect(CallRecord.format(value) == String((value * 1000).rounded() / 1000), "\(value)")
        }
    }

    @Test("quoting as bytes gives quote's text")
    func quoting() {
        for text in ["", "plain", "tab\there", "\u{0}\u{1f}\"\\", "ünïcödé ✓ 🚀", String(repeating: "a\r\n", count: 50)]
        {
            var bytes: [UInt8] = []
            JSONText.appendQuoted(text, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == JSONText.quote(text))
        }
        for value in [0, 7, 10, 99, 100, 12_345, -1, -908, Int.max, Int.min] {
            var bytes: [UInt8] = []
            JSONText.appendInteger(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
    }
}
