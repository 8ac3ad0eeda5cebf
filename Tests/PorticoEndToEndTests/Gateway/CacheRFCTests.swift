import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PorticoTesting
import Testing

@testable import PorticoGateway

/// The stricter shared cache, one rule per test, each with the section it checks. Runs on
/// `CacheTests`'s scripted origin and test clock.
@Suite("Response cache: targeted fields, statuses, Age and Expires, ranges, methods, cookies")
struct CacheRFCTests {
    static func status(_ answer: TestClient.Answer) -> String { answer.headers["Cache-Status"].first ?? "" }
    static func hit(_ answer: TestClient.Answer) -> Bool { status(answer).hasPrefix("Portico; hit") }

    @Test(
        "RFC 9213 §2.2: Portico-Cache-Control, then CDN-Cache-Control, override Cache-Control and Expires; invalid ones are ignored"
    )
    func targetedFields() async throws {
        try await CacheTests.run { s in
            s.origin.set("/c/cdn", [("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=60")])
            let first = try await s.get("/c/cdn")
            #expect(first.headers["CDN-Cache-Control"].first == "max-age=60", "CDN-Cache-Control is passed on")
            #expect(Self.hit(try await s.get("/c/cdn")))

            s.origin.set(
                "/c/portico",
                [
                    ("Cache-Control", "max-age=0"), ("CDN-Cache-Control", "no-store"),
                    ("Portico-Cache-Control", "max-age=60"),
                ])
            let miss = try await s.get("/c/portico")
            let hit = try await s.get("/c/portico")
            #expect(Self.hit(hit))
            #expect(
                miss.headers["Portico-Cache-Control"].isEmpty && hit.headers["Portico-Cache-Control"].isEmpty,
                "it is for this cache only")
            #expect(hit.headers["Cache-Control"].first == "max-age=0")

            s.origin.set("/c/cdn-nostore", [("Cache-Control", "max-age=60"), ("CDN-Cache-Control", "no-store")])
            _ = try await s.get("/c/cdn-nostore")
            #expect(Self.status(try await s.get("/c/cdn-nostore")).contains("detail=\"no-store\""))

            // Not a Structured Fields dictionary (keys are lower case): Cache-Control decides.
            s.origin.set("/c/invalid", [("Cache-Control", "no-store"), ("CDN-Cache-Control", "Max-Age=600")])
            _ = try await s.get("/c/invalid")
            #expect(Self.status(try await s.get("/c/invalid")).contains("detail=\"no-store\""))

            // A valid dictionary whose max-age is not an integer: the directive is ignored, and
            // Expires is ignored because a targeted field applies: no freshness at all.
            s.origin.set(
                "/c/decimal", [("CDN-Cache-Control", "max-age=1.5"), ("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")])
            _ = try await s.get("/c/decimal")
            #expect(Self.status(try await s.get("/c/decimal")).contains("detail=\"no freshness\""))
            s.origin.set("/c/string", [("CDN-Cache-Control", "max-age=\"60\"")])
            _ = try await s.get("/c/string")
            #expect(!Self.hit(try await s.get("/c/string")))
        }
    }

    @Test(
        "RFC 9111 §3, RFC 9110 §15.1: any status with explicit freshness is stored; without it only the heuristically cacheable ones"
    )
    func statuses() async throws {
        try await CacheTests.run { s in
            let old = "Sun, 06 Nov 1994 08:49:37 GMT"
            for (path, code, headers, stored) in [
                ("/c/s503", 503, [("Cache-Control", "max-age=60")], true),
                ("/c/s302", 302, [("Cache-Control", "max-age=60")], true),
                ("/c/s418", 418, [("Cache-Control", "s-maxage=60")], true),
                ("/c/s201", 201, [("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")], true),
                ("/c/h404", 404, [("Last-Modified", old)], true), ("/c/h418", 418, [("Last-Modified", old)], false),
                ("/c/h302", 302, [("Last-Modified", old)], false), ("/c/h500", 500, [("Last-Modified", old)], false),
            ] as [(String, Int, [(String, String)], Bool)] {
                s.origin.set(path, status: code, headers)
                let first = try await s.get(path)
                #expect(first.status == code)
                let again = try await s.get(path)
                #expect(Self.hit(again) == stored, "\(path): \(Self.status(again))")
                if !stored {
                    #expect(Self.status(again).contains("detail=\"status \(code)\""), "\(path): \(Self.status(again))")
                }
            }
            // A route that lists statuses stores those only, explicit freshness or not.
            s.origin.set("/t/s503", status: 503, [("Cache-Control", "max-age=60")])
            _ = try await s.get("/t/s503")
            #expect(Self.status(try await s.get("/t/s503")).contains("detail=\"status 503\""))
        }
    }

    @Test(
        "RFC 9111 §5.1: Age is a non-negative integer, the first of a list; anything else is ignored. §5.3: an invalid Expires is in the past"
    )
    func ageAndExpires() async throws {
        try await CacheTests.run { s in
            for (path, age, expected) in [
                ("/c/a-int", "30", "30"), ("/c/a-list", "10, 20", "10"), ("/c/a-float", "1.5", "0"),
                ("/c/a-suffix", "30s", "0"),
                ("/c/a-negative", "-5", "0"), ("/c/a-long", "000000000000000000000042", "42"),
            ] {
                s.origin.set(path, [("Cache-Control", "max-age=4000000000"), ("Age", age)])
                _ = try await s.get(path)
                let hit = try await s.get(path)
                #expect(Self.hit(hit), "\(path)")
                #expect(hit.headers["Age"].first == expected, "Age: \(age)")
            }
            for (path, expires, fresh) in [
                ("/c/e-zero", "0", false), ("/c/e-nogmt", "Thu, 01 Jan 2099 00:00:00", false),
                ("/c/e-garbage", "tomorrow", false),
                ("/c/e-valid", "Thu, 01 Jan 2099 00:00:00 GMT", true),
                ("/c/e-rfc850", "Thursday, 01-Jan-99 00:00:00 GMT", false),
            ] {
                s.origin.set(path, [("Expires", expires)])
                _ = try await s.get(path)
                let again = try await s.get(path)
                #expect(Self.hit(again) == fresh, "Expires: \(expires): \(Self.status(again))")
                if !fresh {
                    #expect(Self.status(again).contains("fwd=stale"), "Expires: \(expires): \(Self.status(again))")
                }
            }
        }
    }

    @Test(
        "RFC 9110 §14: ranges are cut from a fresh stored response: one, several, suffixes, If-Range, 416; misses pass through"
    )
    func ranges() async throws {
        try await CacheTests.run { s in
            let modified = "Sun, 06 Nov 1994 08:49:37 GMT"
            s.origin.set(
                "/c/range",
                [
                    ("Cache-Control", "max-age=60"), ("ETag", "\"v1\""), ("Last-Modified", modified),
                    ("Content-Type", "text/plain"),
                ], body: "0123456789abcdef")
            let whole = try await s.get("/c/range")
            #expect(whole.text == "0123456789abcdef")
            let cases: [(range: String, status: Int, body: String?, contentRange: String?)] = [
                ("bytes=2-5", 206, "2345", "bytes 2-5/16"), ("bytes=-3", 206, "def", "bytes 13-15/16"),
                ("bytes=10-", 206, "abcdef", "bytes 10-15/16"),
                ("bytes=14-99", 206, "ef", "bytes 14-15/16"), ("bytes=100-200", 416, "", "bytes */16"),
                ("items=1-2", 200, "0123456789abcdef", nil),
                ("bytes=5-2", 200, "0123456789abcdef", nil),
                ("bytes=" + Array(repeating: "0-0", count: 17).joined(separator: ","), 200, "0123456789abcdef", nil),
            ]
            for (range, status, body, contentRange) in cases {
                let answer = try await s.get("/c/range", [("Range", range)])
                #expect(answer.status == status, "\(range)")
                if let body { #expect(answer.text == body, "\(range)") }
                #expect(answer.headers["Content-Range"].first == contentRange, "\(range)")
                #expect(answer.headers["Accept-Ranges"].first == "bytes")
            }
            let multi = try await s.get("/c/range", [("Range", "bytes=0-1,4-5")])
            #expect(multi.status == 206)
            let type = try #require(multi.headers["Content-Type"].first)
            #expect(type.hasPrefix("multipart/byteranges; boundary="))
            let boundary = String(type.dropFirst("multipart/byteranges; boundary=".count))
            #expect(
                multi.text
                    == "\r\n--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/16\r\n\r\n01\r\n--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 4-5/16\r\n\r\n45\r\n--\(boundary)--\r\n"
            )

            for (condition, ranged) in [
                ("\"v1\"", true), ("\"v2\"", false), ("W/\"v1\"", false), (modified, true),
                ("Mon, 07 Nov 1994 08:49:37 GMT", false),
            ] {
                let answer = try await s.get("/c/range", [("Range", "bytes=0-3"), ("If-Range", condition)])
                #expect(answer.status == (ranged ? 206 : 200), "If-Range: \(condition)")
            }
            #expect(s.origin.count("/c/range") == 1, "every range came from the store")

            s.origin.set("/c/range-miss", [("Cache-Control", "max-age=60")], body: "0123456789")
            let passed = try await s.get("/c/range-miss", [("Range", "bytes=0-1")])
            #expect(Self.status(passed).contains("detail=\"range\""))
            #expect(s.origin.lastHeaders("/c/range-miss")?[.range] == "bytes=0-1")
        }
    }

    @Test(
        "RFC 9110 §9.2.1, RFC 9111 §4.4: an extension method is passed through uncached and, being unsafe, invalidates the URI"
    )
    func extensionMethods() async throws {
        try await CacheTests.run { s in
            s.origin.set("/c/ext", [("Cache-Control", "max-age=60")])
            _ = try await s.get("/c/ext")
            #expect(Self.hit(try await s.get("/c/ext")))
            for _ in 0..<2 {
                let report = try await s.client.send(.RAW(value: "REPORT"), "/c/ext")
                #expect(report.status == 200)
                #expect(Self.status(report).contains("fwd=method"))
            }
            #expect(s.origin.count("/c/ext") == 3)
            #expect(!Self.hit(try await s.get("/c/ext")), "the REPORT invalidated the stored GET")
        }
    }

    @Test("RFC 9111 §3, §7.3: a Set-Cookie is never replayed unless this cache is told it may be")
    func cookies() async throws {
        try await CacheTests.run { s in
            s.origin.set("/c/k-plain", [("Cache-Control", "public, max-age=60"), ("Set-Cookie", "session=alice")])
            _ = try await s.get("/c/k-plain")
            let plain = try await s.get("/c/k-plain")
            #expect(
                Self.status(plain).contains("detail=\"set-cookie\""),
                "public in Cache-Control is every cache's, not a word to replay cookies")

            for qualifier in ["private=\"Set-Cookie\"", "no-cache=\"Set-Cookie\""] {
                let path = "/c/k-\(qualifier.prefix(7))"
                s.origin.set(
                    path,
                    [("Cache-Control", "max-age=60, " + qualifier), ("Set-Cookie", "session=alice"), ("ETag", "\"k\"")])
                let first = try await s.get(path)
                #expect(first.headers["Set-Cookie"].first == "session=alice")
                let second = try await s.get(path)
                #expect(
                    Self.hit(second) || Self.status(second).contains("fwd-status=304"),
                    "\(qualifier): \(Self.status(second))")
                #expect(second.headers["Set-Cookie"].isEmpty, "\(qualifier): alice's cookie went to another client")
            }

            s.origin.set("/c/k-told", [("Portico-Cache-Control", "public, max-age=60"), ("Set-Cookie", "region=eu")])
            _ = try await s.get("/c/k-told")
            let told = try await s.get("/c/k-told")
            #expect(Self.hit(told))
            #expect(told.headers["Set-Cookie"].first == "region=eu")
        }
    }
}
