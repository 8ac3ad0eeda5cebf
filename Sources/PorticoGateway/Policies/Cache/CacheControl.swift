import HTTPTypes

/// The `Cache-Control` directives of a request or a response (RFC 9111 section 5.2, RFC 5861).
///
/// Every `Cache-Control` field line is read; names are case-insensitive; when a directive is
/// repeated the first occurrence wins. A delta-seconds value that is not a number makes
/// `max-age` and `s-maxage` zero (RFC 9111 section 4.2.1: treat the response as stale).
struct CacheControl: Sendable, Equatable {
    var maxAge: Int?
    var sMaxAge: Int?
    var noStore = false
    /// `no-cache`; in a response its qualified form is treated as unqualified, and the fields it
    /// names (`noCacheFields`) are never stored, so they cannot reach another client.
    var noCache = false
    var noCacheFields: [String] = []
    /// `private`; `privateFields` holds the names of its qualified form (a shared cache may store the rest).
    var isPrivate = false
    var privateFields: [String] = []
    var isPublic = false
    var mustRevalidate = false
    var proxyRevalidate = false
    var onlyIfCached = false
    /// `max-stale`: present with no value means any staleness is accepted.
    var maxStale: MaxStale?
    var minFresh: Int?
    var staleWhileRevalidate: Int?
    var staleIfError: Int?

    enum MaxStale: Sendable, Equatable {
        case any
        case seconds(Int)
    }

    static let field = HTTPField.Name.cacheControl
    static let pragma = HTTPField.Name("Pragma")!

    init() {}

    /// Reads every `Cache-Control` line of `fields`; a request's `Pragma: no-cache` counts when it has none.
    init(_ fields: HTTPFields, isRequest: Bool = false) {
        let lines = fields[values: Self.field]
        if lines.isEmpty {
            if isRequest, let pragma = fields[Self.pragma], pragma.lowercased().contains("no-cache") { noCache = true }
            return
        }
        var seen: Set<String> = []
        for line in lines {
            for (name, value) in Self.directives(in: line) where seen.insert(name).inserted {
                apply(name, value)
            }
        }
    }

    private mutating func apply(_ name: String, _ value: String?) {
        let seconds = value.flatMap(Self.deltaSeconds)
        switch name {
        case "max-age": maxAge = seconds ?? 0
        case "s-maxage": sMaxAge = seconds ?? 0
        case "no-store": noStore = true
        case "no-cache":
            noCache = true
            noCacheFields =
                value.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
                ?? []
        case "private":
            isPrivate = true
            privateFields =
                value.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
                ?? []
        case "public": isPublic = true
        case "must-revalidate": mustRevalidate = true
        case "proxy-revalidate": proxyRevalidate = true
        case "only-if-cached": onlyIfCached = true
        case "max-stale": maxStale = value == nil ? .any : seconds.map(MaxStale.seconds)
        case "min-fresh": minFresh = seconds
        case "stale-while-revalidate": staleWhileRevalidate = seconds
        case "stale-if-error": staleIfError = seconds
        default: break
        }
    }

    /// The largest delta-seconds kept: RFC 9111 section 1.2.2 has a recipient hold any greater
    /// value (however many digits) at 2^31.
    static let maximumDeltaSeconds = 2_147_483_648

    /// A delta-seconds value (`1*DIGIT`), held at 2^31; nil when it is not digits alone.
    static func deltaSeconds(_ text: String) -> Int? {
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            digits += 1
            if value < maximumDeltaSeconds { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        }
        return digits == 0 ? nil : min(value, maximumDeltaSeconds)
    }

    /// Whether a shared cache may serve this response stale at all (must-revalidate, proxy-revalidate, s-maxage forbid it).
    var forbidsStale: Bool { mustRevalidate || proxyRevalidate || sMaxAge != nil }

    /// Splits a field value into lowercased directive names and their values (quotes removed).
    static func directives(in line: String) -> [(String, String?)] {
        var result: [(String, String?)] = []
        var index = line.startIndex
        while index < line.endIndex {
            while index < line.endIndex, line[index] == " " || line[index] == "," || line[index] == "\t" {
                index = line.index(after: index)
            }
            guard index < line.endIndex else { break }
            let nameStart = index
            while index < line.endIndex, line[index] != "=", line[index] != "," { index = line.index(after: index) }
            let name = line[nameStart..<index].trimmingCharacters(in: .whitespaces).lowercased()
            var value: String?
            if index < line.endIndex, line[index] == "=" {
                index = line.index(after: index)
                if index < line.endIndex, line[index] == "\"" {
                    index = line.index(after: index)
                    var text = ""
                    while index < line.endIndex, line[index] != "\"" {
                        if line[index] == "\\", line.index(after: index) < line.endIndex {
                            index = line.index(after: index)
                        }
                        text.append(line[index])
                        index = line.index(after: index)
                    }
                    if index < line.endIndex { index = line.index(after: index) }
                    value = text
                    while index < line.endIndex, line[index] != "," { index = line.index(after: index) }
                } else {
                    let valueStart = index
                    while index < line.endIndex, line[index] != "," { index = line.index(after: index) }
                    value = line[valueStart..<index].trimmingCharacters(in: .whitespaces)
                }
            }
            if !name.isEmpty { result.append((name, value)) }
        }
        return result
    }
}
