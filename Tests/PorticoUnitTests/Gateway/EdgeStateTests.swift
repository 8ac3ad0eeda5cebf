import NIOCore
import PorticoConfig
import Testing

@testable import PorticoGateway

/// The edge's pure parts, driven synchronously: path canonicalization, the connection pace
/// state machine with a made-up clock, the LRU table and the failed-auth counters.
@Suite("Edge state machines and parsers")
struct EdgeStateTests {
    @Test("paths are canonical per RFC 3986 6.2.2, and what another reader could take for another path is refused")
    func paths() throws {
        let normalizer = PathNormalizer()
        let cases: [(String, String?)] = [
            ("/", "/"), ("/a/b", "/a/b"), ("/a/./b/../c", "/a/c"), ("/a/b/..", "/a/"), ("/a/.", "/a/"),
            ("/../../x", "/x"),
            ("//a///b/", "/a/b/"), ("/%7Euser/%41%62", "/~user/Ab"), ("/a%3fb%2a", "/a%3Fb%2A"), ("/a/%2e%2E/b", "/b"),
            ("/a?x=%2e%2e/../", "/a?x=%2e%2e/../"), ("/a/../b?q", "/b?q"), ("/a%25b", "/a%25b"),
            ("/file.tar.gz", "/file.tar.gz"),
            ("/a%2fb", nil), ("/a%5Cb", nil), ("/a\\b", nil), ("/..;/b", nil), ("/a/.;x/b", nil), ("/%252e%252e/", nil),
            ("/%252F", nil), ("/a%00", nil), ("/a%zz", nil), ("/a%2", nil), ("/a b", nil), ("a/b", nil), ("*", nil),
            ("/é", nil),
        ]
        for (input, expected) in cases {
            switch normalizer.normalize(input) {
            case .success(let output): #expect(output == expected, "\(input) -> \(output)")
            case .failure(let refusal): #expect(expected == nil, "\(input) refused: \(refusal.reason)")
            }
        }
        var keep = PathSettings()
        keep.escapedSlashes = .keep
        keep.mergeSlashes = false
        #expect(try PathNormalizer(settings: keep).normalize("/a%2fb//c").get() == "/a%2Fb//c")
        var decode = PathSettings()
        decode.escapedSlashes = .decode
        #expect(try PathNormalizer(settings: decode).normalize("/a/..%2F..%2Fb").get() == "/b")
    }

    @Test("the pace closes a slow head after its timeout and a slow body after its grace, never an idle connection")
    func pace() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var pace = ConnectionPace(headerTimeout: .seconds(10), minimumBodyRate: 1024, bodyGrace: .seconds(10))
        #expect(pace.check(now: start + .seconds(3600)) == .none)
        pace.bytesArrived(now: start)
        #expect(pace.check(now: start + .seconds(10)) == .none)
        #expect(pace.check(now: start + .milliseconds(10_001)) != .none)

        pace.headReceived(now: start, hasBody: true)
        pace.bodyArrived(9 * 1024)
        #expect(pace.check(now: start + .seconds(9)) == .none)
        #expect(pace.check(now: start + .seconds(11)) != .none)
        pace.bodyArrived(3 * 1024)
        #expect(pace.check(now: start + .seconds(11)) == .none)
        pace.requestEnded()
        #expect(pace.check(now: start + .seconds(3600)) == .none)

        // Bytes of the next request that came while responding start its head's clock at the response's end.
        pace.bytesArrived(now: start + .seconds(20))
        pace.responseEnded(now: start + .seconds(30))
        #expect(pace.check(now: start + .seconds(39)) == .none)
        #expect(pace.check(now: start + .seconds(41)) != .none)
        pace.headReceived(now: start + .seconds(41), hasBody: false)
        pace.responseEnded(now: start + .seconds(42))
        #expect(pace.state == .idle)
    }

    @Test("the LRU table keeps its capacity and drops the least recently used")
    func lru() {
        var table = LRUTable<Int, String>(capacity: 3)
        for key in 1...3 { table[key] = "\(key)" }
        _ = table[1]
        table[4] = "4"
        #expect(table.count == 3)
        #expect(table.peek(2) == nil)
        #expect(table.peek(1) == "1" && table.peek(3) == "3" && table.peek(4) == "4")
        table[3] = nil
        table[5] = "5"
        table[6] = "6"
        #expect(table.count == 3)
        #expect(table.peek(1) == nil)
        for key in 0..<10_000 { table[key % 7] = "\(key)" }
        #expect(table.count == 3)
    }

    @Test("failed tries are counted per address and per consumer, and refused for the rest of the window")
    func failures() {
        final class Clock: @unchecked Sendable { var now: Int64 = 0 }
        let clock = Clock()
        let failures = AuthFailures(perAddress: 3, perConsumer: 2, window: .seconds(60), maximumEntries: 4) {
            clock.now
        }
        #expect(failures.retryAfter(address: "a", consumer: "c") == nil)
        failures.recordFailure(address: "a", consumer: "c")
        failures.recordFailure(address: "a", consumer: "c")
        #expect(failures.retryAfter(address: "b", consumer: "c") == 60)
        #expect(failures.retryAfter(address: "a") == nil)
        failures.recordFailure(address: "a")
        clock.now = 30_000_000_000
        #expect(failures.retryAfter(address: "a") == 30)
        clock.now = 60_000_000_000
        #expect(failures.retryAfter(address: "a", consumer: "c") == nil)
        for index in 0..<100 { failures.recordFailure(address: "x\(index)") }
        #expect(failures.entries <= 4 + 4)
    }
}
