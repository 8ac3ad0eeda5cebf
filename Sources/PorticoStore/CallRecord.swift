import Foundation
import PorticoConfig

/// One request, as the log phase sees it. Filled along the way and handed to the log sinks.
public struct CallRecord: Sendable {
    /// Wall-clock time the request arrived.
    public var time: Date
    public var requestID: String
    public var method: String
    /// The path as the client sent it, without the query.
    public var path: String
    public var api: String?
    /// The API version served.
    public var version: String?
    /// The authenticated consumer, once authentication names one.
    public var consumer: String?
    public var route: String?
    public var status: Int
    public var bytesIn: Int
    public var bytesOut: Int
    /// Total time in the gateway, head received to body sent.
    public var totalMilliseconds: Double
    /// Time the upstream took to send its head; nil when no upstream was called.
    public var upstreamMilliseconds: Double?
    public var target: String?
    public var clientAddress: String?
    /// A problem slug (`bad-gateway`, `no-route`) when the gateway answered with an error.
    public var error: String?
    /// Tries beyond the first.
    public var retries: Int
    /// Which API key was used: its visible prefix (`ptk_AbCd1234`), or `sha256:` and the start
    /// of its digest for a key from the config. Never the key.
    public var keyPrefix: String?
    /// The rate-limit decision: `allowed <policy> r=<remaining>` for the tightest policy, or
    /// `refused <policy>`; nil when no limit applied.
    public var rateLimit: String?
    /// What the route's cache did: `hit`, `stale`, `revalidated`, `collapsed`, `miss` or `bypass`;
    /// nil on routes without a cache.
    public var cache: String?
    /// The W3C trace id (32 hex digits) the call belongs to.
    public var traceID: String?

    public init(
        time: Date, requestID: String, method: String, path: String, api: String?, version: String? = nil,
        consumer: String? = nil, route: String?,
        status: Int, bytesIn: Int, bytesOut: Int, totalMilliseconds: Double, upstreamMilliseconds: Double?, target: String?,
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
    public static let maximumPathBytes = 2048
    public static let maximumMethodBytes = 32
    public static let maximumNameBytes = 256
    public static let truncationMarker = "[…]"

    /// `text` cut to at most `limit` bytes (marker included) on a character boundary.
    public static func bounded(_ text: String, to limit: Int) -> String {
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
    public var jsonLine: String {
        var line = "{\"time\":\"\(Self.timestamp(time))\",\"request_id\":\(JSONText.quote(requestID))"
        line += ",\"method\":\(JSONText.quote(method)),\"path\":\(JSONText.quote(path))"
        line += ",\"api\":" + (api.map(JSONText.quote) ?? "null")
        line += ",\"version\":" + (version.map(JSONText.quote) ?? "null")
        line += ",\"consumer\":" + (consumer.map(JSONText.quote) ?? "null")
        line += ",\"route\":" + (route.map(JSONText.quote) ?? "null")
        line += ",\"status\":\(status),\"bytes_in\":\(bytesIn),\"bytes_out\":\(bytesOut)"
        line += ",\"total_ms\":\(Self.format(totalMilliseconds))"
        line += ",\"upstream_ms\":" + (upstreamMilliseconds.map(Self.format) ?? "null")
        line += ",\"target\":" + (target.map(JSONText.quote) ?? "null")
        line += ",\"client\":" + (clientAddress.map(JSONText.quote) ?? "null")
        line += ",\"retries\":\(retries)"
        line += ",\"key_prefix\":" + (keyPrefix.map(JSONText.quote) ?? "null")
        line += ",\"rate_limit\":" + (rateLimit.map(JSONText.quote) ?? "null")
        line += ",\"cache\":" + (cache.map(JSONText.quote) ?? "null")
        line += ",\"trace_id\":" + (traceID.map(JSONText.quote) ?? "null")
        line += ",\"error\":" + (error.map(JSONText.quote) ?? "null")
        line += "}"
        return line
    }

    static func format(_ milliseconds: Double) -> String {
        let scaled = (milliseconds * 1000).rounded() / 1000
        return String(scaled)
    }

    /// RFC 3339 UTC with milliseconds, built without a formatter on the request path.
    public static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval)
        let millis = Int((interval - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
