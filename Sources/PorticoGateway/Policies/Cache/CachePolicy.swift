import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// A shared HTTP cache on a route (RFC 9111, RFC 5861 stale extensions, RFC 9211 `Cache-Status`).
///
/// GET responses that may be stored are kept in the runtime's `CacheStore` and reused while
/// fresh; stale ones are revalidated with their validators, served stale where the response and
/// the request allow it, and refreshed in the background under `stale-while-revalidate`.
/// Concurrent misses for one key make one upstream request. Unsafe methods invalidate what they
/// touch. Every response of the route carries `Cache-Status`.
struct CachePolicy: Policy {
    let phase = PolicyPhase.request
    /// After auth, rate limits and the body-size check, so a hit is authorized and charged; before header edits.
    let priority = 500
    let config: CachePolicyConfig
    let context: CacheContext
    let keys: RequestKey
    /// Keeps this route's entries apart from other routes' (and other configs') for the same URL.
    let scope: String
    let varyOn: [HTTPField.Name]
    let tagHeader: HTTPField.Name?
    let requestIDHeader: HTTPField.Name

    init(
        config: CachePolicyConfig, context: CacheContext, keys: RequestKey, scope: String,
        requestIDHeader: HTTPField.Name
    ) {
        self.config = config
        self.requestIDHeader = requestIDHeader
        self.context = context
        self.keys = keys
        self.scope = scope
        self.varyOn = config.varyOn.compactMap { HTTPField.Name($0) }
        self.tagHeader = config.tagHeader.flatMap { HTTPField.Name($0) }
    }

    static let cacheStatusHeader = HTTPField.Name("Cache-Status")!

    /// Seconds rounded down and held within ±2^31, the largest delta-seconds a cache sends.
    static func wholeSeconds(_ seconds: Double) -> Int {
        let limit = Double(CacheControl.maximumDeltaSeconds)
        guard seconds.isFinite else { return seconds < 0 ? -Int(limit) : Int(limit) }
        return Int(min(limit, max(-limit, seconds)).rounded(.down))
    }
    /// Conditional request fields the cache answers itself instead of passing on.
    static let conditionals: [HTTPField.Name] = [
        .ifNoneMatch, .ifModifiedSince, .ifMatch, .ifUnmodifiedSince, .ifRange,
    ]

    private var defaultTTL: Double { Double(config.defaultTTL.milliseconds) / 1000 }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        switch request.method {
        case .get, .head:
            break
        case .options, .trace, .connect:
            return try await pass(
                request, exchange: exchange, next: next, status: .init(outcome: .bypass, forward: "method"))
        default:
            return try await invalidating(request, exchange: exchange, next: next)
        }
        let control = CacheControl(request.headers, isRequest: true)
        let key = CacheStore.Key(
            host: (request.head.authority ?? "").lowercased(), target: request.head.path ?? "/",
            extra: config.key.isEmpty
                ? scope : scope + "|" + keys.value(of: config.key, request: request, exchange: exchange))
        let now = context.clock()
        let lookup = context.store.lookup(key, requestHeaders: request.headers)
        if let range = request.headers[.range] {
            // A range of a fresh, complete stored response is cut from it (RFC 9110 §14); any other
            // range request goes to the upstream as it is.
            if request.method == .get, case .found(let entry, _) = lookup, entry.status == .ok,
                case .fresh = reuse(entry, control: control, now: now)
            {
                return serve(
                    entry, to: request, exchange: exchange, now: now, status: .init(outcome: .hit), range: range)
            }
            return try await pass(
                request, exchange: exchange, next: next,
                status: .init(outcome: .bypass, forward: "request", detail: "range"))
        }
        if case .found(let entry, let handle) = lookup {
            switch reuse(entry, control: control, now: now) {
            case .fresh:
                return serve(entry, to: request, exchange: exchange, now: now, status: .init(outcome: .hit))
            case .stale(let reason):
                return serve(
                    entry, to: request, exchange: exchange, now: now, status: .init(outcome: .stale, detail: reason))
            case .staleWhileRevalidate:
                refreshInBackground(entry, handle: handle, key: key, request: request, exchange: exchange, next: next)
                return serve(
                    entry, to: request, exchange: exchange, now: now,
                    status: .init(outcome: .stale, detail: "stale-while-revalidate"))
            case .validate(let why):
                if control.onlyIfCached { return try onlyIfCached(exchange: exchange) }
                return try await fetch(
                    request, exchange: exchange, next: next, key: key, control: control,
                    stored: Stored(entry: entry, handle: handle), forward: why)
            }
        }
        if control.onlyIfCached { return try onlyIfCached(exchange: exchange) }
        let forward = if case .varyMiss = lookup { "vary-miss" } else { "uri-miss" }
        if request.method == .head {
            return try await pass(
                request, exchange: exchange, next: next, status: .init(outcome: .miss, forward: forward, detail: "head")
            )
        }
        return try await fetch(
            request, exchange: exchange, next: next, key: key, control: control, stored: nil, forward: forward)
    }

    // MARK: Reuse

    /// What may be done with a stored response for this request (RFC 9111 sections 4.2 and 5.2.1, RFC 5861).
    enum Reuse: Equatable {
        case fresh
        /// Stale, and the request accepts it (`max-stale`).
        case stale(String)
        case staleWhileRevalidate
        /// Must go to the upstream, conditionally; the `fwd` reason.
        case validate(String)
    }

    func reuse(_ entry: CachedResponse, control: CacheControl, now: Date) -> Reuse {
        let age = entry.currentAge(at: now)
        let lifetime = entry.freshnessLifetime
        if entry.control.noCache { return .validate("stale") }
        if control.noCache { return .validate("request") }
        if let maxAge = control.maxAge, age > Double(maxAge) { return .validate("request") }
        if let minFresh = control.minFresh, lifetime - age < Double(minFresh) { return .validate("request") }
        if age < lifetime { return .fresh }
        guard !entry.control.forbidsStale else { return .validate("stale") }
        let staleness = age - lifetime
        switch control.maxStale {
        case .any?: return .stale("max-stale")
        case .seconds(let limit)? where staleness <= Double(limit): return .stale("max-stale")
        default: break
        }
        if let window = entry.control.staleWhileRevalidate, staleness <= Double(window) { return .staleWhileRevalidate }
        return .validate("stale")
    }

    /// Whether `entry` may stand in for an upstream error now (RFC 5861 section 4, from the response or the request).
    func mayServeStaleOnError(_ entry: CachedResponse, control: CacheControl, now: Date) -> Bool {
        guard !entry.control.forbidsStale else { return false }
        let window = max(entry.control.staleIfError ?? -1, control.staleIfError ?? -1)
        return window >= 0 && -entry.timeToLive(at: now) <= Double(window)
    }

    // MARK: Serving from the store

    /// The stored response (or a 304 when the client's own validators match it, or the `range`
    /// asked for when `If-Range` allows), with `Age` and `Cache-Status`.
    private func serve(
        _ entry: CachedResponse, to request: Request, exchange: Exchange, now: Date, status: CacheStatus,
        range: String? = nil
    ) -> Response {
        let (headers, notModified) = servedFields(
            entry, requestFields: request.headers, exchange: exchange, now: now, status: status)
        if notModified { return Response(status: .notModified, headers: headers) }
        if let range, Self.ifRangeAllows(request.headers, entry: entry) {
            return ranged(entry, headers: headers, range: range, exchange: exchange)
        }
        return Response(
            status: entry.status, headers: whole(entry, headers, exchange: exchange),
            body: .init(byteBuffer: entry.body))
    }

    /// The fields a stored response is served with (its age, `Cache-Status`, the request id),
    /// and whether the client's validators make it a 304 (then the fields are a 304's).
    private func servedFields(
        _ entry: CachedResponse, requestFields: HTTPFields, exchange: Exchange, now: Date, status: CacheStatus
    ) -> (HTTPFields, notModified: Bool) {
        var status = status
        status.ttl = Self.wholeSeconds(entry.timeToLive(at: now))
        exchange.cacheStatus = status
        var headers = entry.headers
        headers[CacheControl.porticoField] = nil
        headers[.age] = String(Self.wholeSeconds(entry.currentAge(at: now)))
        headers[Self.cacheStatusHeader] = status.headerValue
        headers.setUnindexed(requestIDHeader, exchange.requestID)
        if entry.status == .ok,
            Self.clientValidatorsMatch(requestFields, etag: entry.etag, lastModified: entry.lastModified)
        {
            return (Self.notModifiedFields(headers), true)
        }
        if entry.status == .ok { headers[Self.acceptRanges] = "bytes" }
        return (headers, false)
    }

    /// The fields of a whole stored body, which is counted as sent.
    private func whole(_ entry: CachedResponse, _ headers: HTTPFields, exchange: Exchange) -> HTTPFields {
        var headers = headers
        headers[.contentLength] = String(entry.body.readableBytes)
        exchange.bytesOut.add(entry.body.readableBytes, ordering: .relaxed)
        return headers
    }

    // MARK: The event-loop path

    /// The stored response that answers `head` at once, fresh and whole, or nil: a miss, a
    /// stale or partial entry, a range, another method, or request directives that need the
    /// streaming path (which then serves the request from the start, so nothing before this
    /// policy has run twice). The key does not depend on the caller (`PolicyChain` checks).
    func freshHit(_ head: HTTPRequest) -> CachedResponse? {
        guard head.method == .get, head.headerFields[.range] == nil else { return nil }
        let control = CacheControl(head.headerFields, isRequest: true)
        if control.onlyIfCached { return nil }
        let key = CacheStore.Key(host: (head.authority ?? "").lowercased(), target: head.path ?? "/", extra: scope)
        guard case .found(let entry, _) = context.store.lookup(key, requestHeaders: head.headerFields),
            case .fresh = reuse(entry, control: control, now: context.clock())
        else { return nil }
        return entry
    }

    /// The answer from `entry` for a request the event-loop path serves: its head and body.
    func answer(_ entry: CachedResponse, requestFields: HTTPFields, exchange: Exchange) -> (HTTPResponse, ByteBuffer) {
        let (headers, notModified) = servedFields(
            entry, requestFields: requestFields, exchange: exchange, now: context.clock(), status: .init(outcome: .hit))
        if notModified { return (HTTPResponse(status: .notModified, headerFields: headers), ByteBuffer()) }
        return (HTTPResponse(status: entry.status, headerFields: whole(entry, headers, exchange: exchange)), entry.body)
    }

    static let acceptRanges = HTTPField.Name("Accept-Ranges")!

    /// RFC 9110 §13.1.5: without `If-Range` the range is served; with one, only when it names the
    /// stored response: its strong entity tag (strong comparison), or its exact `Last-Modified`.
    static func ifRangeAllows(_ headers: HTTPFields, entry: CachedResponse) -> Bool {
        guard let condition = headers[.ifRange]?.trimmingCharacters(in: .whitespaces) else { return true }
        if condition.hasPrefix("\"") || condition.hasPrefix("W/") {
            guard let etag = entry.etag, !etag.hasPrefix("W/"), !condition.hasPrefix("W/") else { return false }
            return etag == condition
        }
        guard let date = HTTPDate.parse(condition), let lastModified = entry.lastModified else { return false }
        return date == lastModified
    }

    /// 206 with one range, `multipart/byteranges` with several, or 416 (RFC 9110 §14.3, §14.6, §15.5.17).
    private func ranged(_ entry: CachedResponse, headers: HTTPFields, range: String, exchange: Exchange) -> Response {
        var headers = headers
        let length = entry.body.readableBytes
        switch ByteRanges.parse(range, length: length) {
        case .whole:
            headers[.contentLength] = String(length)
            exchange.bytesOut.add(length, ordering: .relaxed)
            return Response(status: entry.status, headers: headers, body: .init(byteBuffer: entry.body))
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(length)"
            headers[.contentLength] = "0"
            headers[.contentType] = nil
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .ranges(let ranges) where ranges.count == 1:
            let part =
                entry.body.getSlice(at: entry.body.readerIndex + ranges[0].lowerBound, length: ranges[0].count)
                ?? ByteBuffer()
            headers[.contentRange] = "bytes \(ranges[0].lowerBound)-\(ranges[0].upperBound)/\(length)"
            headers[.contentLength] = String(part.readableBytes)
            exchange.bytesOut.add(part.readableBytes, ordering: .relaxed)
            return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: part))
        case .ranges(let ranges):
            let boundary = "portico-" + exchange.requestID.filter { $0.isLetter || $0.isNumber }
            let type = headers[.contentType]
            var body = ByteBuffer()
            for range in ranges {
                body.writeString("\r\n--\(boundary)\r\n")
                if let type { body.writeString("Content-Type: \(type)\r\n") }
                body.writeString("Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(length)\r\n\r\n")
                if var part = entry.body.getSlice(at: entry.body.readerIndex + range.lowerBound, length: range.count) {
                    body.writeBuffer(&part)
                }
            }
            body.writeString("\r\n--\(boundary)--\r\n")
            headers[.contentType] = "multipart/byteranges; boundary=\(boundary)"
            headers[.contentLength] = String(body.readableBytes)
            exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
            return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: body))
        }
    }

    /// RFC 9110 section 13.1.2 and 13.1.3 for GET and HEAD: `If-None-Match` (weak comparison) wins over `If-Modified-Since`.
    static func clientValidatorsMatch(_ headers: HTTPFields, etag: String?, lastModified: Date?) -> Bool {
        let noneMatch = headers[values: .ifNoneMatch]
        if !noneMatch.isEmpty {
            guard let etag else { return false }
            let tags = noneMatch.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            return tags.contains { $0 == "*" || weakTag($0) == weakTag(etag) }
        }
        if let since = headers[.ifModifiedSince].flatMap(HTTPDate.parse), let lastModified {
            return lastModified <= since
        }
        return false
    }

    private static func weakTag(_ tag: String) -> Substring {
        tag.hasPrefix("W/") ? tag.dropFirst(2) : Substring(tag)
    }

    /// A 304 keeps the fields a 200 would have had that describe the representation's metadata (RFC 9110 section 15.4.5).
    static func notModifiedFields(_ headers: HTTPFields) -> HTTPFields {
        var kept = headers
        for name in [HTTPField.Name.contentLength, .contentType, .contentEncoding, .contentLanguage, .contentRange] {
            kept[name] = nil
        }
        return kept
    }

    private func onlyIfCached(exchange: Exchange) throws -> Response {
        exchange.cacheStatus = CacheStatus(outcome: .bypass, detail: "only-if-cached")
        throw GatewayError.gatewayTimeout(
            "The request asked for a cached response only (only-if-cached), and none is stored.")
    }

    // MARK: Going to the upstream

    struct Stored {
        let entry: CachedResponse
        let handle: CacheStore.Handle
    }

    /// Passes the request on without looking anything up.
    private func pass(
        _ request: Request, exchange: Exchange, next: PolicyNext, status: CacheStatus
    ) async throws -> Response {
        exchange.cacheStatus = status
        var response = try await next(request, exchange: exchange)
        response.headers[CacheControl.porticoField] = nil
        response.headers.append(HTTPField(name: Self.cacheStatusHeader, value: status.headerValue))
        return response
    }

    /// Unsafe methods: a non-error response invalidates the target URI and the `Location` and
    /// `Content-Location` URIs on the same host (RFC 9111 section 4.4).
    private func invalidating(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let response = try await pass(
            request, exchange: exchange, next: next, status: .init(outcome: .bypass, forward: "method"))
        guard (200..<400).contains(Int(response.status.code)) else { return response }
        let host = (request.head.authority ?? "").lowercased()
        let target = request.head.path ?? "/"
        context.store.invalidate(host: host, target: target)
        for name in [HTTPField.Name.location, .contentLocation] {
            for value in response.headers[values: name] {
                if let other = Self.sameHostTarget(value, host: host, base: target) {
                    context.store.invalidate(host: host, target: other)
                }
            }
        }
        return response
    }

    /// The target of a `Location`-style reference if it is on `host`: absolute, absolute-path, or relative to `base`.
    static func sameHostTarget(_ reference: String, host: String, base: String) -> String? {
        if let scheme = reference.range(of: "://") {
            let rest = reference[scheme.upperBound...]
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            guard rest[..<slash].lowercased() == host else { return nil }
            return slash == rest.endIndex ? "/" : String(rest[slash...])
        }
        if reference.hasPrefix("//") { return nil }
        if reference.hasPrefix("/") { return reference }
        let basePath = base.split(separator: "?", maxSplits: 1).first.map(String.init) ?? base
        let folder =
            basePath.hasSuffix("/")
            ? basePath : String(basePath[...(basePath.lastIndex(of: "/") ?? basePath.startIndex)])
        return folder + reference
    }

    /// A miss or a revalidation, coalesced with concurrent ones for the same key.
    private func fetch(
        _ request: Request, exchange: Exchange, next: PolicyNext, key: CacheStore.Key, control: CacheControl,
        stored: Stored?,
        forward: String
    ) async throws -> Response {
        let flightKey = key.description
        switch context.flights.join(flightKey) {
        case .leader(let flight):
            let land: @Sendable () -> Void = { [context] in context.flights.land(flightKey, flight) }
            // Whatever happens to the response (a failed write, a dropped body), the waiters are released.
            exchange.onFinish(land)
            return try await self.forward(
                request, exchange: exchange, next: next, key: key, control: control, stored: stored, forward: forward,
                land: land)
        case .follower(let flight):
            await flight.wait()
            let now = context.clock()
            if case .found(let entry, _) = context.store.lookup(key, requestHeaders: request.headers),
                case .fresh = reuse(entry, control: control, now: now)
            {
                return serve(
                    entry, to: request, exchange: exchange, now: now,
                    status: .init(outcome: .collapsed, forward: forward, collapsed: true))
            }
            return try await self.forward(
                request, exchange: exchange, next: next, key: key, control: control, stored: stored, forward: forward,
                land: {})
        }
    }

    /// Sends the request upstream (conditionally when there is a stored response) and handles the answer.
    private func forward(
        _ request: Request, exchange: Exchange, next: PolicyNext, key: CacheStore.Key, control: CacheControl,
        stored: Stored?,
        forward: String, land: @escaping @Sendable () -> Void
    ) async throws -> Response {
        let upstreamRequest = Self.conditional(request, on: stored?.entry)
        let requestTime = context.clock()
        var status = CacheStatus(outcome: .miss, forward: forward)
        let response: Response
        do {
            response = try await next(upstreamRequest, exchange: exchange)
        } catch let error as GatewayError {
            land()
            let now = context.clock()
            if let stored, mayServeStaleOnError(stored.entry, control: control, now: now) {
                status.outcome = .stale
                status.forwardStatus = error.status.code
                status.detail = "stale-if-error"
                return serve(stored.entry, to: request, exchange: exchange, now: now, status: status)
            }
            exchange.cacheStatus = status
            throw error
        }
        let responseTime = context.clock()
        let code = Int(response.status.code)
        status.forwardStatus = code
        if let stored, code == 304 {
            land()
            let updated = stored.entry.updated(
                with: response.headers, requestTime: requestTime, responseTime: responseTime, defaultTTL: defaultTTL)
            context.store.replace(stored.handle, key: key, with: updated)
            status.outcome = .revalidated
            return serve(updated, to: request, exchange: exchange, now: responseTime, status: status)
        }
        if let stored, code >= 500, mayServeStaleOnError(stored.entry, control: control, now: responseTime) {
            land()
            status.outcome = .stale
            status.detail = "stale-if-error"
            return serve(stored.entry, to: request, exchange: exchange, now: responseTime, status: status)
        }
        if let reason = unstorable(request, exchange: exchange, control: control, response: response) {
            land()
            // A full answer that may not be stored replaces the stored one (an error does not: it may pass).
            if stored != nil, code < 500 { context.store.invalidate(host: key.host, target: key.target) }
            status.detail = reason
            return finish(response, exchange: exchange, status: status)
        }
        status.stored = true
        var teed = varying(response)
        let collector = collector(
            for: teed, requestHeaders: request.headers, key: key, requestTime: requestTime, responseTime: responseTime,
            land: land)
        let original = teed.body
        if code == 200,
            Self.clientValidatorsMatch(
                request.headers, etag: teed.headers[.eTag],
                lastModified: teed.headers[.lastModified].flatMap(HTTPDate.parse)),
            context.refresher.submit({ try? await original.write(DrainWriter(collector: collector)) })
        {
            // The client holds this representation already: it gets 304 now, the body is stored in the background.
            var notModified = Self.notModifiedFields(teed.headers)
            notModified[CacheControl.porticoField] = nil
            notModified[Self.cacheStatusHeader] = status.headerValue
            exchange.cacheStatus = status
            return Response(status: .notModified, headers: notModified)
        }
        teed.body = ResponseBody(contentLength: original.contentLength) { writer in
            try await original.write(TeeWriter(base: writer, collector: collector))
        }
        return finish(teed, exchange: exchange, status: status)
    }

    /// Adds `Cache-Status` to an upstream response (after any the upstream's own caches added).
    private func finish(_ response: Response, exchange: Exchange, status: CacheStatus) -> Response {
        exchange.cacheStatus = status
        var response = response
        response.headers[CacheControl.porticoField] = nil
        response.headers.append(HTTPField(name: Self.cacheStatusHeader, value: status.headerValue))
        return response
    }

    /// The request as sent upstream: the client's conditionals removed (the cache answers them), the stored validators added.
    static func conditional(_ request: Request, on entry: CachedResponse?) -> Request {
        guard conditionals.contains(where: { request.headers.contains($0) }) || entry?.hasValidator == true else {
            return request
        }
        var head = request.head
        for name in conditionals { head.headerFields[name] = nil }
        if let entry {
            if let etag = entry.etag { head.headerFields[.ifNoneMatch] = etag }
            if let lastModified = entry.headers[.lastModified] { head.headerFields[.ifModifiedSince] = lastModified }
        }
        return Request(head: head, body: request.body)
    }

    /// Why this response may not be stored (RFC 9111 section 3, RFC 9213, and the route's
    /// settings); nil when it may.
    ///
    /// Any status may be stored with explicit freshness (RFC 9111 §3: `max-age`, `s-maxage`,
    /// `Expires`); without it only those RFC 9110 §15.1 calls heuristically cacheable. A route's
    /// `statuses` list, when it has one, is the only statuses stored at all. A partial answer is never stored whole. `Set-Cookie` is stored
    /// only when the upstream names it in `private=` or `no-cache=` (then stored without it, so no
    /// other client ever gets the cookie), or says `public` in a targeted field
    /// (`Portico-Cache-Control` or `CDN-Cache-Control`), the one place it speaks to this cache alone.
    func unstorable(_ request: Request, exchange: Exchange, control: CacheControl, response: Response) -> String? {
        let (responseControl, targeted) = CacheControl.forSharedCache(response.headers)
        let code = Int(response.status.code)
        if control.noStore { return "request no-store" }
        if responseControl.noStore { return "no-store" }
        if responseControl.isPrivate, responseControl.privateFields.isEmpty { return "private" }
        if code == 206 || response.headers.contains(.contentRange) { return "partial" }
        // A stream of events is live: stored, it would be buffered, and replayed stale.
        if let type = response.headers[.contentType], type.lowercased().hasPrefix("text/event-stream") {
            return "event stream"
        }
        let explicit =
            responseControl.maxAge != nil || responseControl.sMaxAge != nil
            || (!targeted && response.headers.contains(.expires))
        if let listed = config.statuses {
            if !listed.contains(code) { return "status \(code)" }
        } else if !explicit, !CachePolicyConfig.heuristicStatuses.contains(code) {
            return "status \(code)"
        }
        if response.headers[values: .vary].contains(where: { $0.contains("*") }) { return "vary *" }
        if response.headers.contains(.setCookie) {
            let classic = CacheControl(response.headers)
            let withheld =
                (responseControl.privateFields + responseControl.noCacheFields + classic.privateFields
                + classic.noCacheFields)
                .contains("set-cookie")
            if !withheld, !(targeted && responseControl.isPublic) { return "set-cookie" }
        }
        if let length = response.headers[.contentLength].flatMap(Int.init), length > config.maxObjectSize {
            return "too large"
        }
        // RFC 9111 section 3.5, extended to every credential the gateway checked: a response to an
        // authenticated request is shared only when it says so, or when the key is per caller.
        let authenticated = request.headers.contains(.authorization) || exchange.identity?.method != nil
        let perCaller = config.key.contains(.consumer) || config.key.contains(.credential)
        if authenticated, !perCaller,
            !(responseControl.isPublic || responseControl.sMaxAge != nil || responseControl.mustRevalidate)
        {
            return "authenticated"
        }
        let hasValidator = response.headers.contains(.eTag) || response.headers.contains(.lastModified)
        if !explicit, defaultTTL <= 0, !hasValidator { return "no freshness" }
        return nil
    }

    /// The response's fields as stored: without the per-response ones and those the qualified
    /// `private=` and `no-cache=` name (in `Cache-Control` or a targeted field).
    func storedFields(_ fields: HTTPFields) -> HTTPFields {
        var stored = fields
        stored[Self.cacheStatusHeader] = nil
        stored[requestIDHeader] = nil
        return CachedResponse.shareable(stored)
    }

    /// Collects the body as it goes by and stores the entry once it is complete and within the size limit.
    private func collector(
        for response: Response, requestHeaders: HTTPFields, key: CacheStore.Key, requestTime: Date, responseTime: Date,
        land: @escaping @Sendable () -> Void
    ) -> BodyCollector {
        let headers = storedFields(response.headers)
        let implicitFreshness = (config.statuses ?? CachePolicyConfig.heuristicStatuses).contains(
            Int(response.status.code))
        let varyNames = Self.varyNames(headers)
        let tags =
            tagHeader.map { name in
                headers[values: name].flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
            } ?? []
        let status = response.status
        let defaultTTL = defaultTTL
        let storedHeaders = headers
        let selecting = varyNames
        let store = context.store
        return BodyCollector(limit: config.maxObjectSize, expected: response.body.contentLength) { body in
            if let body {
                store.store(
                    key,
                    CachedResponse(
                        status: status, headers: storedHeaders, body: body, requestHeaders: requestHeaders,
                        requestTime: requestTime,
                        responseTime: responseTime, varyNames: selecting, defaultTTL: defaultTTL, tags: tags,
                        implicitFreshness: implicitFreshness))
            }
            land()
        }
    }

    /// The request headers a response varies on, lowercased and unique, in order.
    static func varyNames(_ headers: HTTPFields) -> [HTTPField.Name] {
        var names: [HTTPField.Name] = []
        for value in headers[values: .vary] {
            for name in value.split(separator: ",") {
                if let field = HTTPField.Name(name.trimmingCharacters(in: .whitespaces)), !names.contains(field) {
                    names.append(field)
                }
            }
        }
        return names
    }

    /// Adds the route's `vary-on` headers to the response's `Vary`, so caches further down vary on them too.
    private func varying(_ response: Response) -> Response {
        guard !varyOn.isEmpty else { return response }
        let names = Self.varyNames(response.headers)
        let added = varyOn.filter { !names.contains($0) }
        guard !added.isEmpty else { return response }
        var response = response
        response.headers[.vary] = (names + added).map(\.rawName).joined(separator: ", ")
        return response
    }

    // MARK: Background refresh

    /// Revalidates `entry` once, off the request path (stale-while-revalidate).
    private func refreshInBackground(
        _ entry: CachedResponse, handle: CacheStore.Handle, key: CacheStore.Key, request: Request, exchange: Exchange,
        next: PolicyNext
    ) {
        let flightKey = key.description
        guard let flight = context.refreshes.startIfIdle(flightKey) else { return }
        let context = context
        let head = Self.conditional(Request(head: request.head, body: .init(buffer: ByteBuffer())), on: entry).head
        let background = Exchange(
            requestID: exchange.requestID, trace: exchange.trace, clientAddress: exchange.clientAddress,
            host: exchange.host, start: .now, route: exchange.route,
            request: exchange.request)
        background.identity = exchange.identity
        let policy = self
        let submitted = context.refresher.submit {
            defer { context.refreshes.land(flightKey, flight) }
            let requestTime = context.clock()
            guard
                let response = try? await next(
                    Request(head: head, body: .init(buffer: ByteBuffer())), exchange: background)
            else {
                background.finish()
                return
            }
            let responseTime = context.clock()
            if response.status == .notModified {
                let updated = entry.updated(
                    with: response.headers, requestTime: requestTime, responseTime: responseTime,
                    defaultTTL: policy.defaultTTL)
                context.store.replace(handle, key: key, with: updated)
            } else if response.status.code < 500 {
                let bodiless = Request(head: head, body: .init(buffer: ByteBuffer()))
                if policy.unstorable(bodiless, exchange: background, control: CacheControl(), response: response) == nil
                {
                    let collector = policy.collector(
                        for: policy.varying(response), requestHeaders: head.headerFields, key: key,
                        requestTime: requestTime, responseTime: responseTime,
                        land: {})
                    try? await response.body.write(DrainWriter(collector: collector))
                } else {
                    context.store.invalidate(host: key.host, target: key.target)
                }
            }
            background.finish()
        }
        if !submitted { context.refreshes.land(flightKey, flight) }
    }
}
