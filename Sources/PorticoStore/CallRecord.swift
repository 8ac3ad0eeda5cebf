import Foundation
import PorticoConfig

/// One request, as the log phase sees it. Filled along the way and handed to the log sinks.
package struct CallRecord: Sendable {
    /// Wall-clock time the request arrived.
    package var time: Date
    package var requestID: String
    package var method: String
    /// The path as the client sent it, without the query.
    package var path: String
    package var api: String?
    /// The API version served.
    package var version: String?
    /// The authenticated consumer, once authentication names one.
    package var consumer: String?
    package var route: String?
    package var status: Int
    package var bytesIn: Int
    package var bytesOut: Int
    /// Total time in the gateway, head received to body sent.
    package var totalMilliseconds: Double
    /// Time the upstream took to send its head; nil when no upstream was called.
    package var upstreamMilliseconds: Double?
    package var target: String?
    package var clientAddress: String?
    /// A problem slug (`bad-gateway`, `no-route`) when the gateway answered with an error.
    package var error: String?
    /// Tries beyond the first.
    package var retries: Int
    /// Which API key was used: its visible prefix (`ptk_AbCd1234`), or `sha256:` and the start
    /// of its digest for a key from the config. Never the key.
    package var keyPrefix: String?
    /// The rate-limit decision: `allowed <policy> r=<remaining>` for the tightest policy, or
    /// `refused <policy>`; nil when no limit applied.
    package var rateLimit: String?
    /// What the route's cache did: `hit`, `stale`, `revalidated`, `collapsed`, `miss` or `bypass`;
    /// nil on routes without a cache.
    package var cache: String?
    /// The W3C trace id (32 hex digits) the call belongs to.
    package var traceID: String?
    /// The mirrored copy's outcome: `<status> <ms>ms` or `failed <reason>`; nil when not mirrored.
    package var mirror: String?
    /// The HTTP version the client spoke: `1.1` or `2`; nil in records from before it was kept.
    package var protocolVersion: String?
    /// Where the request or its response broke the OpenAPI contract (`validate: report` or
    /// `enforce`, `validate-responses: report`): `request /query/limit: expected at most 100,
    /// found 500; …`, at most `maximumValidationBytes`; nil when it kept to it or is not checked.
    package var validation: String?
    /// A composite endpoint's backend calls (the `call_backends` rows); empty otherwise.
    package var backends: [BackendCallRecord] = []

    package init(
        time: Date, requestID: String, method: String, path: String, api: String?, version: String? = nil,
        consumer: String? = nil, route: String?,
        status: Int, bytesIn: Int, bytesOut: Int, totalMilliseconds: Double, upstreamMilliseconds: Double?,
        target: String?,
        clientAddress: String?, error: String?, retries: Int = 0
    ) {
        self.time = time
        self.requestID = requestID
        self.method = Self.bounded(method, to: Self.maximumMethodBytes)
        self.path = Self.bounded(path, to: Self.maximumPathBytes)
        self.api = api
        self.version = version
        self.consumer = consumer.map { Self.bounded($0, to: Self.maximumNameBytes) }
        self.route = route
        self.status = status
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.totalMilliseconds = totalMilliseconds
        self.upstreamMilliseconds = upstreamMilliseconds
        self.target = target
        self.clientAddress = clientAddress
        self.error = error
        self.retries = retries
    }

    /// What a call keeps of a client's text at most, in UTF-8 bytes: a longer path, method or
    /// consumer name is cut there and ends in `truncationMarker`, so no client can make one call
    /// cost the store or the log more than a few KiB.
    package static let maximumPathBytes = 2048
    package static let maximumMethodBytes = 32
    package static let maximumNameBytes = 256
    package static let maximumValidationBytes = 2048
    package static let truncationMarker = "[…]"

    /// `text` cut to at most `limit` bytes (marker included) on a character boundary.
    package static func bounded(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = Array(text.utf8.prefix(limit - truncationMarker.utf8.count))
        // Back off to the start of a character: never cut a UTF-8 sequence in two.
        if let cut = kept.lastIndex(where: { $0 & 0xC0 != 0x80 }), kept[cut] >= 0xC0 {
            let length = kept[cut] >= 0xF0 ? 4 : kept[cut] >= 0xE0 ? 3 : 2
            if kept.count - cut < length { kept.removeSubrange(cut...) }
        }
        return String(decoding: kept, as: UTF8.self) + truncationMarker
    }

    /// The access-log line: one JSON object, no trailing newline.
    package var jsonLine: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        appendJSONLine(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `jsonLine`'s bytes, appended: the access log formats its batches so, without a string
    /// per field.
    package func appendJSONLine(to out: inout [UInt8]) {
        func key(_ name: StaticString) {
            name.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func text(_ value: String?) {
            if let value { JSONText.appendQuoted(value, to: &out) } else { key("null") }
        }
        key("{\"time\":\"")
        Self.appendTimestamp(time, to: &out)
        key("\",\"request_id\":")
        text(requestID)
        key(",\"method\":")
        text(method)
        key(",\"path\":")
        text(path)
        key(",\"api\":")
        text(api)
        key(",\"version\":")
        text(version)
        key(",\"consumer\":")
        text(consumer)
        key(",\"route\":")
        text(route)
        key(",\"status\":")
        JSONText.appendInteger(status, to: &out)
        key(",\"bytes_in\":")
        JSONText.appendInteger(bytesIn, to: &out)
        key(",\"bytes_out\":")
        JSONText.appendInteger(bytesOut, to: &out)
        key(",\"total_ms\":")
        Self.appendMilliseconds(totalMilliseconds, to: &out)
        key(",\"upstream_ms\":")
        if let upstreamMilliseconds { Self.appendMilliseconds(upstreamMilliseconds, to: &out) } else { key("null") }
        key(",\"target\":")
        text(target)
        key(",\"client\":")
        text(clientAddress)
        key(",\"retries\":")
        JSONText.appendInteger(retries, to: &out)
        key(",\"key_prefix\":")
        text(keyPrefix)
        key(",\"rate_limit\":")
        text(rateLimit)
        key(",\"cache\":")
        text(cache)
        key(",\"trace_id\":")
        text(traceID)
        key(",\"mirror\":")
        text(mirror)
        key(",\"protocol\":")
        text(protocolVersion)
        key(",\"validation\":")
        text(validation)
        key(",\"error\":")
        text(error)
        if !backends.isEmpty {
            key(",\"backends\":[")
            for (index, backend) in backends.enumerated() {
                if index > 0 { key(",") }
                key("{\"name\":")
                text(backend.name)
                key(",\"target\":")
                text(backend.target)
                key(",\"status\":")
                JSONText.appendInteger(backend.status, to: &out)
                key(",\"ms\":")
                Self.appendMilliseconds(backend.milliseconds, to: &out)
                key(",\"error\":")
                text(backend.error)
                key(",\"span_id\":")
                text(backend.spanID)
                key(",\"cache\":")
                text(backend.cache)
                key("}")
            }
            key("]")
        }
        key("}")
    }

    /// Milliseconds to three decimals, as `String(Double)` writes them (`12.0`, `0.125`), from
    /// integer digits. Not finite or beyond 2^53 µs: `null`, which no clock gives.
    static func appendMilliseconds(_ milliseconds: Double, to out: inout [UInt8]) {
        let micros = (milliseconds * 1000).rounded()
        guard micros.isFinite, abs(micros) < 9_007_199_254_740_992 else {
            out.append(contentsOf: Array("null".utf8))
            return
        }
        var value = Int(micros)
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            value = -value
        }
        JSONText.appendInteger(value / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        var fraction = value % 1000
        var digits = 3
        // Trailing zeros go, but one digit always stays (`12.0`).
        while digits > 1, fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    static func format(_ milliseconds: Double) -> String {
        var bytes: [UInt8] = []
        appendMilliseconds(milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 3339 UTC with milliseconds, built without a formatter on the request path.
    package static func timestamp(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendTimestamp(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A time outside years 1…9999 (as a stored row could hold) is written as the nearest end of
    /// that range, not trapped on.
    static func appendTimestamp(_ date: Date, to out: inout [UInt8]) {
        let interval = date.timeIntervalSince1970
        // 0001-01-01 and 9999-12-31T23:59:59.999, in seconds since 1970.
        let clamped = interval.isNaN ? 0 : min(max(interval, -62_135_596_800), 253_402_300_799.9995)
        // Whole seconds rounded down, so that a time before 1970 keeps its milliseconds positive.
        let whole = clamped.rounded(.down)
        var seconds = time_t(whole)
        let millis = Int((clamped - whole) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int, then separator: UInt8?) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            // A year past 9999 keeps all its digits, as `String(value)` would.
            while divisor * 10 <= value { divisor *= 10 }
            let value = max(0, value)
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
            if let separator { out.append(separator) }
        }
        digits(Int(parts.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, then: UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, then: UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, then: UInt8(ascii: "."))
        digits(max(0, min(millis, 999)), 3, then: UInt8(ascii: "Z"))
    }
}
