import Foundation
import HTTPTypes
import NIOCore
import PorticoConfig

/// The parsers that read what clients and upstreams send, reachable from `portico-bench fuzz`
/// (`bench/fuzz.sh`), which feeds each millions of generated inputs. Each entry runs the same
/// code the request path runs and checks what must hold of its result; a violated property
/// stops the process, as a crash would, so the fuzzer reports both the same way.
package enum FuzzEntry {
    /// `PathNormalizer` under every setting: an accepted path is canonical, stays so when
    /// normalized again, and holds no dot segment, backslash, NUL or (unless kept) encoded slash.
    package static func path(_ target: String) {
        for escaped in PathSettings.EscapedSlashes.allCases {
            for merge in [true, false] {
                var settings = PathSettings()
                settings.escapedSlashes = escaped
                settings.mergeSlashes = merge
                let normalizer = PathNormalizer(settings: settings)
                guard case .success(let normalized) = normalizer.normalize(target) else { continue }
                guard case .success(let again) = normalizer.normalize(normalized), again == normalized else {
                    fatalError("not idempotent: \(target.debugDescription) -> \(normalized.debugDescription)")
                }
                let path = normalized.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
                let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                if segments.contains(where: { $0 == "." || $0 == ".." }) {
                    fatalError("dot segment left: \(normalized.debugDescription)")
                }
                if path.contains("\\") || path.contains("\0") {
                    fatalError("backslash or NUL left: \(normalized.debugDescription)")
                }
                if escaped != .keep, path.uppercased().contains("%2F") || path.uppercased().contains("%5C") {
                    fatalError("encoded slash left: \(normalized.debugDescription)")
                }
                if merge, path.contains("//") { fatalError("empty segment left: \(normalized.debugDescription)") }
                if !path.hasPrefix("/") { fatalError("not absolute: \(normalized.debugDescription)") }
            }
        }
    }

    /// A request head through `RequestGuard`: `text` is split into header lines `name: value`.
    package static func requestHead(path: String, headers text: String) {
        var fields = HTTPFields()
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else {
                continue
            }
            fields.append(HTTPField(name: name, value: String(line[line.index(after: colon)...])))
        }
        var server = ServerConfig()
        server.trustedProxies = ["10.0.0.0/8"]
        for underscores in UnderscoreHeaders.allCases {
            server.headersWithUnderscores = underscores
            let guardian = RequestGuard(server: server)
            for peer in ["10.1.2.3", "203.0.113.9", "::1"] {
                let head = HTTPRequest(method: .get, scheme: "http", authority: "a", path: path, headerFields: fields)
                guard case .success(let changed) = guardian.admit(head, peer: peer) else { continue }
                let admitted = changed ?? head
                for field in admitted.headerFields {
                    let name = field.name.canonicalName.replacingOccurrences(of: "_", with: "-")
                    if name.hasPrefix("x-consumer-") || name == "x-authenticated-scopes" {
                        fatalError("identity header kept: \(field.name)")
                    }
                    if RequestGuard.hopByHop.contains(name) { fatalError("hop-by-hop header kept: \(field.name)") }
                    if peer != "10.1.2.3", RequestGuard.forwarding.contains(name) {
                        fatalError("forwarding header kept: \(field.name)")
                    }
                }
            }
        }
    }

    /// A response head's caching headers as the cache reads them, then used as a hit would.
    package static func cacheHeaders(
        cacheControl: String, age: String, expires: String, date: String, lastModified: String
    ) {
        var fields = HTTPFields()
        for (name, value) in [
            ("Cache-Control", cacheControl), ("Age", age), ("Expires", expires), ("Date", date),
            ("Last-Modified", lastModified),
        ] {
            fields.append(HTTPField(name: HTTPField.Name(name)!, value: value))
        }
        let now = Date()
        let entry = CachedResponse(
            status: .ok, headers: fields, body: .init(), requestHeaders: fields, requestTime: now, responseTime: now,
            varyNames: [], defaultTTL: 0, tags: [])
        let control = CacheControl(fields, isRequest: true)
        for offset in [0.0, 1e6, -1e6] {
            let at = now.addingTimeInterval(offset)
            _ = CachePolicy.wholeSeconds(entry.timeToLive(at: at))
            _ = CachePolicy.wholeSeconds(entry.currentAge(at: at))
            // What the reuse decision computes from the request's directives.
            let age = entry.currentAge(at: at)
            _ = age > Double(control.maxAge ?? 0) || entry.freshnessLifetime - age < Double(control.minFresh ?? 0)
            if case .seconds(let limit)? = control.maxStale { _ = age - entry.freshnessLifetime <= Double(limit) }
        }
        for text in [expires, date, lastModified] {
            if let parsed = HTTPDate.parse(text) { _ = HTTPDate.format(parsed) }
        }
    }

    /// The admin API's and the portal's query parameters, as `name=value&…`.
    package static func query(_ text: String) {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let query = AnalyticsQuery(values)
        _ = try? query.filter()
        _ = try? query.search()
        _ = try? query.duration("bucket").map { Int($0.seconds) }
        _ = try? query.int("limit")
    }

    /// What the edge policies read from clients: a JSON body (parsed, printed and parsed again to
    /// the same text, then edited by pointer), a `Range` against a length (every range inside
    /// it), `Accept-Encoding`, an `Origin` against an origin list, `Access-Control-Request-Headers`,
    /// and a template.
    package static func edge(_ text: String, length: Int) {
        let bytes = Array(text.utf8)
        if var document = try? JSONParser.parse(bytes) {
            let printed = document.jsonText
            guard let again = try? JSONParser.parse(Array(printed.utf8)), again.jsonText == printed else {
                fatalError("JSON did not survive printing: \(printed)")
            }
            for pointer in ["/a", "/a/0", "/-", "/meta/x", ""] {
                if let pointer = JSONPointer(pointer) {
                    pointer.set(.string(text), in: &document)
                    pointer.remove(from: &document)
                }
            }
        }
        _ = JSONPointer(text).map { $0.value(in: .object([("a", .array([.null]))])) }
        switch ByteRanges.parse(text, length: length) {
        case .ranges(let ranges):
            for range in ranges where range.lowerBound < 0 || range.upperBound >= length || range.isEmpty {
                fatalError("range \(range) outside 0..<\(length) from \(text)")
            }
        case .whole, .unsatisfiable: break
        }
        _ = ContentCoding.negotiate([text], offered: [.gzip, .deflate])
        let matcher = OriginMatcher([
            .exact("https://a.example.com"), .subdomains(prefix: "https://", suffix: ".example.com"),
        ])
        if matcher.allows(text) != nil, text.lowercased() != "https://a.example.com" {
            guard text.lowercased().hasPrefix("https://"), text.lowercased().hasSuffix(".example.com"),
                !text.contains("/", after: 8)
            else {
                fatalError("origin \(text) allowed")
            }
        }
        _ = CORSPolicy.askedHeaders(text)
        _ = ValueTemplate.parse(text)
        _ = OriginPattern.parse(text)
    }

    /// Bytes through both HTTP/1.1 parsers, whole and cut at `split`: the same events and the
    /// same error either way (a parser that depends on how reads fall is one an attacker can
    /// steer), and every body that ends has exactly its declared length.
    package static func http1(_ bytes: [UInt8], split: Int) {
        let limits = HTTP1FieldLines.Limits(fieldSize: 4096, listSize: 8192, fieldCount: 64)
        /// Feeds `bytes` in pieces cut at `cuts` to `next` until it has no more events; the error
        /// status, if one is thrown.
        func feed<Event>(
            _ cuts: [Int], _ next: (inout ByteBuffer) throws(HTTP1ParseError) -> Event?, _ take: (Event) -> Void
        ) -> Int? {
            var buffer = ByteBuffer()
            var start = 0
            for end in cuts + [bytes.count] where end >= start {
                buffer.writeBytes(bytes[start..<end])
                start = end
                do {
                    while let event = try next(&buffer) { take(event) }
                } catch {
                    return error.status
                }
            }
            return nil
        }
        func requests(_ cuts: [Int]) -> String {
            var parser = HTTP1RequestParser(secure: false, limits: limits)
            var trace = ""
            var declared: Int?
            var received = 0
            let error = feed(cuts, { buffer throws(HTTP1ParseError) in try parser.next(&buffer) }) { event in
                switch event {
                case .head(let head):
                    trace +=
                        "head \(head.request.method) \(head.request.path ?? "") \(head.request.headerFields.count);"
                    declared = head.contentLength
                    received = 0
                case .body(let part):
                    received += part.readableBytes
                case .end:
                    if let declared, declared != received {
                        fatalError("request body of \(received) bytes, declared \(declared)")
                    }
                    trace += "end \(received);"
                }
            }
            return trace + (error.map { "error \($0)" } ?? "")
        }
        func responses(_ cuts: [Int]) -> String {
            var parser = HTTP1ResponseParser(limits: limits)
            var trace = ""
            var received = 0
            let error = feed(cuts, { buffer throws(HTTP1ParseError) in try parser.next(&buffer) }) { event in
                switch event {
                case .informational(let head): trace += "1xx \(head.status.code);"
                case .head(let head):
                    trace += "head \(head.response.status.code) \(head.keepAlive);"
                    received = 0
                case .body(let part): received += part.readableBytes
                case .end: trace += "end \(received);"
                }
            }
            return trace + (error.map { "error \($0)" } ?? "")
        }
        let cut = bytes.isEmpty ? 0 : split % (bytes.count + 1)
        let whole = requests([]), halves = requests([cut])
        if whole != halves { fatalError("request parse depends on the split at \(cut): \(whole) / \(halves)") }
        let wholeResponse = responses([]), halvesResponse = responses([cut])
        if wholeResponse != halvesResponse {
            fatalError("response parse depends on the split at \(cut): \(wholeResponse) / \(halvesResponse)")
        }
    }
}

extension String {
    /// Whether `character` occurs after the first `offset` characters.
    fileprivate func contains(_ character: Character, after offset: Int) -> Bool {
        dropFirst(offset).contains(character)
    }
}
