import Foundation
import HTTPTypes
import NIOCore

/// A stored response and what the cache needs to decide whether it may be reused
/// (RFC 9111 section 4.2): when it was requested and received, its corrected initial age, and its
/// freshness lifetime, all fixed when it is stored.
struct CachedResponse: Sendable {
    let status: HTTPResponse.Status
    /// The header fields to send on reuse; without `Age`, the request id or other per-response fields.
    let headers: HTTPFields
    let body: ByteBuffer
    let requestTime: Date
    let responseTime: Date
    /// `corrected_initial_age` of RFC 9111 section 4.2.3, in seconds.
    let correctedInitialAge: Double
    /// In seconds; from s-maxage, max-age or Expires (of the targeted field, RFC 9213, when there
    /// is one), else the route's default TTL, else the heuristic: those two only for the statuses
    /// that may be stored without explicit freshness.
    let freshnessLifetime: Double
    let control: CacheControl
    let etag: String?
    let lastModified: Date?
    /// The request headers the response varies on (lowercased names) and the request's values for them.
    let vary: [(name: HTTPField.Name, value: String?)]
    /// Purge tags, from the route's tag header.
    let tags: [String]
    /// What the entry counts against the memory budget.
    let size: Int
    /// Whether the status may be fresh without explicit freshness; kept for updates after a 304.
    let implicitFreshness: Bool

    /// The heuristic's share of the time since `Last-Modified`, and its cap (RFC 9111 section 4.2.2).
    static let heuristicFraction = 0.1
    static let heuristicCap = 86_400.0

    /// Builds an entry from a response received at `responseTime` to a request sent at `requestTime`.
    ///
    /// - Parameters:
    ///   - varyNames: the names of the response's `Vary` and the route's `vary-on`, lowercased and unique.
    ///   - defaultTTL: seconds of freshness for a response that states none; zero leaves it to the heuristic.
    ///   - implicitFreshness: whether the status may be fresh without explicit freshness (the
    ///     route's `statuses`, RFC 9110's heuristically cacheable ones by default).
    init(
        status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, requestHeaders: HTTPFields,
        requestTime: Date, responseTime: Date, varyNames: [HTTPField.Name], defaultTTL: Double, tags: [String],
        implicitFreshness: Bool = true
    ) {
        var headers = headers
        let ageValue = Self.age(headers).map(Double.init) ?? 0
        headers[.age] = nil
        let dateValue: Date
        if let date = headers[.date].flatMap(HTTPDate.parse) {
            dateValue = date
        } else {
            // RFC 9110 section 6.6.1: a recipient with a clock adds the Date it received the message at.
            dateValue = responseTime
            headers[.date] = HTTPDate.format(responseTime)
        }
        let (control, targeted) = CacheControl.forSharedCache(headers)
        self.status = status
        self.headers = headers
        self.body = body
        self.requestTime = requestTime
        self.responseTime = responseTime
        self.control = control
        self.etag = headers[.eTag]
        self.lastModified = headers[.lastModified].flatMap(HTTPDate.parse)
        self.tags = tags
        self.implicitFreshness = implicitFreshness

        let apparentAge = max(0, responseTime.timeIntervalSince(dateValue))
        let responseDelay = max(0, responseTime.timeIntervalSince(requestTime))
        self.correctedInitialAge = max(apparentAge, ageValue + responseDelay)

        if let sMaxAge = control.sMaxAge {
            freshnessLifetime = Double(sMaxAge)
        } else if let maxAge = control.maxAge {
            freshnessLifetime = Double(maxAge)
        } else if !targeted, let expiresText = headers[values: .expires].first {
            // RFC 9111 §5.3: an invalid Expires (such as "0") means already expired.
            freshnessLifetime = HTTPDate.parse(expiresText).map { max(0, $0.timeIntervalSince(dateValue)) } ?? 0
        } else if !implicitFreshness {
            freshnessLifetime = 0
        } else if defaultTTL > 0 {
            freshnessLifetime = defaultTTL
        } else if let lastModified = headers[.lastModified].flatMap(HTTPDate.parse) {
            freshnessLifetime = min(
                Self.heuristicCap, max(0, dateValue.timeIntervalSince(lastModified)) * Self.heuristicFraction)
        } else {
            freshnessLifetime = 0
        }

        self.vary = varyNames.map { name in (name, Self.normalized(requestHeaders, name)) }
        let headerBytes = headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 32 }
        self.size = body.readableBytes + headerBytes + 256
    }

    /// The `Age` a response carries (RFC 9111 §5.1): of a list, the first member; a value that is
    /// not a non-negative integer (`1.5`, `30s`, `-1`) is ignored.
    static func age(_ headers: HTTPFields) -> Int? {
        guard let line = headers[values: .age].first else { return nil }
        let first = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return CacheControl.deltaSeconds(first.trimmingCharacters(in: .whitespaces))
    }

    /// `current_age` at `now`, in seconds (RFC 9111 section 4.2.3).
    func currentAge(at now: Date) -> Double {
        correctedInitialAge + max(0, now.timeIntervalSince(responseTime))
    }

    /// Seconds of freshness left at `now`; negative once stale.
    func timeToLive(at now: Date) -> Double {
        freshnessLifetime - currentAge(at: now)
    }

    /// Whether a revalidation can be conditional: the entry has a validator.
    var hasValidator: Bool { etag != nil || lastModified != nil }

    /// Whether this entry was selected by a request with these headers (RFC 9111 section 4.1).
    func matches(_ requestHeaders: HTTPFields) -> Bool {
        vary.allSatisfy { Self.normalized(requestHeaders, $0.name) == $0.value }
    }

    /// The entry after a 304 (RFC 9111 section 4.3.4): the 304's fields replace the stored ones,
    /// except `Content-Length`, and the ages start again from this exchange.
    func updated(
        with notModified: HTTPFields, requestTime: Date, responseTime: Date, defaultTTL: Double
    ) -> CachedResponse {
        var merged = headers
        var replaced: Set<HTTPField.Name> = []
        // A cookie the 304 sets is the revalidating client's, unless the stored entry replays one already.
        let replaysCookies = headers.contains(.setCookie)
        for field in notModified where field.name != .contentLength && (field.name != .setCookie || replaysCookies) {
            if replaced.insert(field.name).inserted { merged[field.name] = nil }
            merged.append(field)
        }
        var requestHeaders = HTTPFields()
        for (name, value) in vary { if let value { requestHeaders[name] = value } }
        return CachedResponse(
            status: status, headers: Self.shareable(merged), body: body, requestHeaders: requestHeaders,
            requestTime: requestTime,
            responseTime: responseTime, varyNames: vary.map(\.name), defaultTTL: defaultTTL, tags: tags,
            implicitFreshness: implicitFreshness)
    }

    /// `fields` without what must not reach another client: the fields the qualified `private=`
    /// and `no-cache=` name (in `Cache-Control` or a targeted field; a `Set-Cookie` so named is
    /// never replayed). `Portico-Cache-Control` is kept, for 304 updates to read, and removed
    /// when an entry is served.
    static func shareable(_ fields: HTTPFields) -> HTTPFields {
        var kept = fields
        let classic = CacheControl(fields)
        let targeted = CacheControl.forSharedCache(fields).control
        for name in classic.privateFields + classic.noCacheFields + targeted.privateFields + targeted.noCacheFields {
            if let field = HTTPField.Name(name) { kept[field] = nil }
        }
        return kept
    }

    /// A request header's value as the Vary comparison sees it: field lines joined, whitespace collapsed.
    static func normalized(_ fields: HTTPFields, _ name: HTTPField.Name) -> String? {
        let values = fields[values: name]
        guard !values.isEmpty else { return nil }
        return values.joined(separator: ",").split(separator: ",").map {
            $0.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        .joined(separator: ",")
    }
}
