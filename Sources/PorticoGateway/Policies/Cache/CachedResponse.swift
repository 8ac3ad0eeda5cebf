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
    /// In seconds; from s-maxage, max-age or Expires, else the route's default TTL, else the heuristic.
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

    /// The heuristic's share of the time since `Last-Modified`, and its cap (RFC 9111 section 4.2.2).
    static let heuristicFraction = 0.1
    static let heuristicCap = 86_400.0

    /// Builds an entry from a response received at `responseTime` to a request sent at `requestTime`.
    ///
    /// - Parameters:
    ///   - varyNames: the names of the response's `Vary` and the route's `vary-on`, lowercased and unique.
    ///   - defaultTTL: seconds of freshness for a response that states none; zero leaves it to the heuristic.
    init(
        status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, requestHeaders: HTTPFields,
        requestTime: Date, responseTime: Date, varyNames: [HTTPField.Name], defaultTTL: Double, tags: [String]
    ) {
        var headers = headers
        // Age is delta-seconds too; anything else in it is ignored (RFC 9111 section 5.1).
        let ageValue = headers[.age].flatMap { CacheControl.deltaSeconds($0.trimmingWhitespace()) }.map(Double.init) ?? 0
        headers[.age] = nil
        let dateValue: Date
        if let date = headers[.date].flatMap(HTTPDate.parse) {
            dateValue = date
        } else {
            // RFC 9110 section 6.6.1: a recipient with a clock adds the Date it received the message at.
            dateValue = responseTime
            headers[.date] = HTTPDate.format(responseTime)
        }
        let control = CacheControl(headers)
        self.status = status
        self.headers = headers
        self.body = body
        self.requestTime = requestTime
        self.responseTime = responseTime
        self.control = control
        self.etag = headers[.eTag]
        self.lastModified = headers[.lastModified].flatMap(HTTPDate.parse)
        self.tags = tags

        let apparentAge = max(0, responseTime.timeIntervalSince(dateValue))
        let responseDelay = max(0, responseTime.timeIntervalSince(requestTime))
        self.correctedInitialAge = max(apparentAge, ageValue + responseDelay)

        if let sMaxAge = control.sMaxAge {
            freshnessLifetime = Double(sMaxAge)
        } else if let maxAge = control.maxAge {
            freshnessLifetime = Double(maxAge)
        } else if let expiresText = headers[.expires] {
            // An invalid Expires (such as "0") means already expired.
            freshnessLifetime = HTTPDate.parse(expiresText).map { max(0, $0.timeIntervalSince(dateValue)) } ?? 0
        } else if defaultTTL > 0 {
            freshnessLifetime = defaultTTL
        } else if let lastModified = headers[.lastModified].flatMap(HTTPDate.parse) {
            freshnessLifetime = min(Self.heuristicCap, max(0, dateValue.timeIntervalSince(lastModified)) * Self.heuristicFraction)
        } else {
            freshnessLifetime = 0
        }

        self.vary = varyNames.map { name in (name, Self.normalized(requestHeaders, name)) }
        let headerBytes = headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 32 }
        self.size = body.readableBytes + headerBytes + 256
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
    func updated(with notModified: HTTPFields, requestTime: Date, responseTime: Date, defaultTTL: Double) -> CachedResponse {
        var merged = headers
        var replaced: Set<HTTPField.Name> = []
        for field in notModified where field.name != .contentLength {
            if replaced.insert(field.name).inserted { merged[field.name] = nil }
            merged.append(field)
        }
        var requestHeaders = HTTPFields()
        for (name, value) in vary { if let value { requestHeaders[name] = value } }
        return CachedResponse(
            status: status, headers: merged, body: body, requestHeaders: requestHeaders, requestTime: requestTime,
            responseTime: responseTime, varyNames: vary.map(\.name), defaultTTL: defaultTTL, tags: tags)
    }

    /// A request header's value as the Vary comparison sees it: field lines joined, whitespace collapsed.
    static func normalized(_ fields: HTTPFields, _ name: HTTPField.Name) -> String? {
        let values = fields[values: name]
        guard !values.isEmpty else { return nil }
        return values.joined(separator: ",").split(separator: ",").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .joined(separator: ",")
    }
}
