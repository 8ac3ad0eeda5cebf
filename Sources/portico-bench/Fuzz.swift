import Foundation
import PorticoConfig
import PorticoDevPortal
import PorticoGateway

/// `portico-bench fuzz TARGET COUNT [SEED]`: feeds COUNT generated inputs to one parser
/// (`FuzzEntry`, or the config loader) and prints how many ran. A crash or a broken property
/// ends the process with a signal, which `bench/fuzz.sh` reports with the input that did it
/// (the input is written to `$FUZZ_LAST` every 4,096 inputs; the config target loads that file itself).
///
/// Inputs are mutations of a seed corpus: tokens that matter to each parser (`%2e`, `..;`,
/// `max-age=`, twenty-digit numbers, `1e300`, `nan`, quotes, NUL) inserted, bytes replaced,
/// runs deleted or repeated, so most inputs are nearly valid and reach deep into the parser.
enum Fuzz {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    }

    static let numbers = [
        "0", "-1", "1e300", "1e-300", "nan", "inf", "-inf", "9223372036854775807", "9223372036854775808",
        "99999999999999999999",
        "18446744073709551616", "2147483648", "0x7fffffffffffffff", "1.5", "-0", "00000000000000000000001", "1e308",
        "٣",
    ]

    static func mutate(_ seed: String, tokens: [String], generator: inout Generator, at most: Int = 8) -> String {
        var bytes = Array(seed.utf8)
        for _ in 0...generator.below(most) {
            let position = generator.below(bytes.count + 1)
            switch generator.below(6) {
            case 0, 1:
                let pool = generator.below(3) == 0 ? numbers : tokens
                bytes.insert(contentsOf: Array(pool[generator.below(pool.count)].utf8), at: position)
            case 2:
                if !bytes.isEmpty {
                    bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 3:
                let length = generator.below(8)
                bytes.removeSubrange(position..<min(bytes.count, position + length))
            case 4:
                let length = generator.below(16)
                let slice = Array(bytes[position..<min(bytes.count, position + length)])
                bytes.insert(contentsOf: slice + slice, at: position)
            default:
                // A number where a number was.
                if let digit = bytes.indices.dropFirst(position).first(where: { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
                ) {
                    bytes.insert(contentsOf: Array(numbers[generator.below(numbers.count)].utf8), at: digit)
                }
            }
        }
        if bytes.count > 4096 { bytes.removeLast(bytes.count - 4096) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let pathSeeds = [
        "/", "/a/b/c", "/api/v1/pets/1?x=1", "/open/../secret/x", "/a/./b//c/", "/%7Euser/a%20b", "/a;b/c",
        "/x?q=%2e%2e",
    ]
    static let pathTokens = [
        "/", "..", ".", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "\\", ";", "..;", "%25", "%252e", "%00", "%", "%g",
        "?", "#", "//", "%7E",
        "\u{0}", " ", "é", "%C3%A9", "%ff",
    ]
    static let headerSeeds = [
        "X-Consumer-Name: admin\nConnection: keep-alive, X-Tenant\nX-Tenant: a",
        "X_Consumer_Name: admin\nForwarded: host=evil",
        "Connection: close\nX-Forwarded-For: 1.2.3.4\nX-Real-IP: 1.2.3.4\nX-Original-URL: /admin",
        "Upgrade: websocket\nTE: trailers",
    ]
    static let headerTokens = [
        "\n", ": ", ",", "_", "-", "X-Consumer-", "x_consumer_groups", "Connection: ", "Keep-Alive", "Forwarded",
        "X-Forwarded-Host",
        "Proxy-Authorization", "Transfer-Encoding", "Content-Length", "Host", "X-Authenticated-Scopes",
        "X_Forwarded_For",
    ]
    static let http1Seeds = [
        "GET /a?b=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ]
    static let http1Tokens = [
        "\r\n", "\n", "\r", " ", "\t", ":", ",", ";", "Content-Length: ", "Transfer-Encoding: chunked\r\n",
        "Host: b\r\n", "0\r\n\r\n",
        "ffffffffffffffff", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "Connection: upgrade\r\nUpgrade: x\r\n", "\u{0}",
        "\u{7f}", "é",
    ]
    static let cacheSeeds = [
        "max-age=60", "public, s-maxage=3600, stale-while-revalidate=30", "no-cache=\"Set-Cookie\", private=\"a, b\"",
        "max-stale, min-fresh=10",
    ]
    static let cacheTokens = [
        "max-age=", "s-maxage=", "stale-if-error=", "stale-while-revalidate=", "max-stale", "min-fresh=", "no-store",
        "private=\"", "\"",
        ",", "=", " ", "\\", "must-revalidate", "no-cache",
    ]
    static let dateSeeds = [
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "0", "-1",
    ]
    static let dateTokens = ["GMT", ":", "-", " ", ",", "Feb", "29", "31", "99999", "60", "24", "00"]
    static let querySeeds = [
        "since=1h&bucket=5m", "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&status=5xx",
        "from=0&to=1700000000&limit=10&offset=5",
        "min_ms=250&status=503&request_id=x", "since=7d&by=route&limit=10",
    ]
    static let queryTokens = [
        "since=", "bucket=", "from=", "to=", "limit=", "offset=", "min_ms=", "status=", "&", "=", "ms", "s", "m", "h",
        "d", "T", "Z", ":", "xx",
    ]
    static let edgeSeeds = [
        #"{"a":[1,2.50,{"b":"\u00e9\ud83d\ude00"}],"meta":{}}"#, "bytes=0-99,-5,100-", "gzip;q=0.5, deflate, *;q=0",
        "https://a.b.example.com",
        "content-type, X-API-Key", "/users/${path.id}?t=${claims.tenant}", "~^https://[a-z]+$", "[[[[]]]]", "bytes=-0",
    ]
    static let edgeTokens = [
        "\"", ":", ",", "{", "}", "[", "]", "\\u", "\\ud800", "-", "=", ";q=", "q=1.000", "*", "bytes=", "https://",
        ".example.com",
        "${", "}", "~", "/", "%", "@", ":8443", "\u{0}", "1e999", "-0", "99999999999999999999",
    ]
    static let jsonSeeds = [
        #"{"email":"dev@example.com","password":"long enough pw"}"#, #"{"grace":"24h"}"#,
        #"{"expires":"90d","name":"acme"}"#,
        #"{"name":"app","description":"d"}"#, #"{"name":"acme","groups":["partners"],"plan":"free","scopes":["read"]}"#,
    ]
    static let jsonTokens = [
        "\"", ":", ",", "{", "}", "[", "]", "\\u0000", "\\ud800", "null", "true", "1e999", "\"grace\":\"", "\"email\":",
        "d\"", "h\"",
    ]
    static let configSeed = """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0, token: fuzz-admin-token-0123456789abcdef}
        store: {sqlite: x.sqlite, queue: 1000, retention: {calls: 7d}}
        server: {drain-timeout: 30s, idle-timeout: 75s, max-connections: 100, header-timeout: 10s, min-body-rate: 1KiB, path: {escaped-slashes: reject}}
        cache: {memory: 64MiB}
        upstreams:
          backend:
            targets: [{url: "http://127.0.0.1:9", weight: 3}]
            timeout: 5s
            retries: {attempts: 2, backoff: 25ms, budget: 20%}
            circuit-breaker: {failure-rate: 50%, window: 20, min-calls: 10, open-for: 30s}
        plans:
          free: {rate: 10/s, burst: 20, quota: 10000/month}
        apis:
          - name: echo
            base-path: /echo
            upstream: backend
            rate-limit: {rate: 5/s, burst: 10, by: [consumer, ip]}
            cache: {default-ttl: 10s, max-object-size: 1MiB}
            max-body-size: 1MiB
            cost: 2
        """
    static let configTokens = [
        ": ", "\n", "  ", "- ", "{", "}", "[", "]", "ms", "s", "m", "h", "d", "KiB", "GiB", "/s", "/d", "/month", "%",
        "${X}", "&a", "*a",
        "rate: ", "burst: ", "quota: ", "timeout: ", "weight: ", "cost: ", "queue: ", "memory: ", "!!binary ", "'",
        "\"",
    ]

    static func run(target: String, count: Int, seed: UInt64) throws {
        var generator = Generator(state: seed)
        let lastFile = ProcessInfo.processInfo.environment["FUZZ_LAST"]
        func keep(_ input: String, _ index: Int) {
            guard let lastFile, index % 4096 == 0 else { return }
            try? input.write(toFile: lastFile, atomically: false, encoding: .utf8)
        }
        let folder = NSTemporaryDirectory() + "portico-fuzz-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let loader = ConfigLoader(environment: ["X": "1"])
        let configFile = lastFile ?? folder + "/gateway.yaml"
        var rejected = 0
        let start = ContinuousClock.now
        /// One input: a random seed of `seeds`, mutated with `tokens`.
        func next(_ seeds: [String], _ tokens: [String], at most: Int = 8) -> String {
            mutate(seeds[generator.below(seeds.count)], tokens: tokens, generator: &generator, at: most)
        }
        for index in 0..<count {
            switch target {
            case "path":
                let input = next(pathSeeds, pathTokens)
                keep(input, index)
                FuzzEntry.path(input)
            case "headers":
                let path = next(pathSeeds, pathTokens), headers = next(headerSeeds, headerTokens)
                keep(path + "\n" + headers, index)
                FuzzEntry.requestHead(path: path, headers: headers)
            case "cache":
                let control = next(cacheSeeds, cacheTokens + numbers), age = next(numbers, numbers)
                let dates = (0..<3).map { _ in next(dateSeeds, dateTokens) }
                keep(([control, age] + dates).joined(separator: "\n"), index)
                FuzzEntry.cacheHeaders(
                    cacheControl: control, age: age, expires: dates[0], date: dates[1], lastModified: dates[2])
            case "query":
                let input = next(querySeeds, queryTokens)
                keep(input, index)
                FuzzEntry.query(input)
            case "json":
                let input = next(jsonSeeds, jsonTokens)
                keep(input, index)
                PortalFuzzEntry.jsonBody(Array(input.utf8))
            case "edge":
                let input = next(edgeSeeds, edgeTokens)
                let length = [0, 1, 16, 1000, Int(Int32.max)][generator.below(5)]
                keep(input, index)
                FuzzEntry.edge(input, length: length)
            case "http1":
                let input = next(http1Seeds, http1Tokens)
                keep(input, index)
                FuzzEntry.http1(Array(input.utf8), split: generator.below(4096))
            case "config":
                // Fewer mutations: most inputs should still get past YAML into the typed readers.
                // The file loaded is the one kept for a crash report.
                let input = next([configSeed], configTokens, at: 2)
                try input.write(toFile: configFile, atomically: false, encoding: .utf8)
                do { _ = try loader.load(file: configFile) } catch { rejected += 1 }
            default:
                FileHandle.standardError.write(
                    Data(
                        "unknown fuzz target \(target) (path, headers, http1, cache, query, json, edge, config)\n".utf8)
                )
                exit(2)
            }
        }
        let seconds = (ContinuousClock.now - start).components.seconds
        print(
            "fuzz \(target): \(count) inputs, seed \(seed), \(seconds) s, no crash"
                + (target == "config" ? ", \(rejected) rejected with diagnostics" : ""))
    }
}
