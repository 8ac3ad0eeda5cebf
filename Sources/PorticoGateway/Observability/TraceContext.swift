import HTTPTypes
import Synchronization

/// W3C Trace Context (`traceparent`, version 00): the trace a request belongs to and the span
/// the gateway opens for it. A valid incoming `traceparent` is continued (same trace id, the
/// caller's span as parent); otherwise a new trace starts. Upstreams receive the gateway's span.
package struct TraceContext: Sendable, Equatable {
    /// 32 lowercase hex digits.
    package let traceID: String
    /// The gateway's own span: 16 lowercase hex digits.
    package let spanID: String
    /// The caller's span, when the request carried a `traceparent`.
    package let parentSpanID: String?
    /// The trace flags, two hex digits (`01` sampled).
    package let flags: String

    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!

    /// Continues the request's trace, or starts one.
    package init(headers: HTTPFields) {
        if let value = headers[Self.traceparent], let parsed = Self.parse(value) {
            traceID = parsed.traceID
            parentSpanID = parsed.spanID
            flags = parsed.flags
        } else {
            traceID = Self.hex(Self.nextRandom()) + Self.hex(Self.nextRandom())
            parentSpanID = nil
            flags = "01"
        }
        spanID = Self.hex(Self.nextRandom())
    }

    private init(traceID: String, spanID: String, parentSpanID: String?, flags: String) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.flags = flags
    }

    /// A span of this trace whose parent is this span: a composite endpoint's backend call.
    package func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.hex(Self.nextRandom()), parentSpanID: spanID, flags: flags)
    }

    /// The header sent upstream: this trace, the gateway's span.
    package var traceparent: String { "00-\(traceID)-\(spanID)-\(flags)" }

    /// The parts of a `traceparent` value, or nil if it is not valid (all-zero ids, wrong lengths,
    /// uppercase hex and version ff are invalid; a higher version is read by its first four fields).
    static func parse(_ value: String) -> (traceID: String, spanID: String, flags: String)? {
        let parts = value.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, isHex(parts[0]), parts[0] != "ff" else { return nil }
        if parts[0] == "00", parts.count != 4 { return nil }
        let trace = parts[1], span = parts[2], flags = parts[3]
        guard trace.count == 32, span.count == 16, flags.count == 2, isHex(trace), isHex(span), isHex(flags) else {
            return nil
        }
        guard trace.contains(where: { $0 != "0" }), span.contains(where: { $0 != "0" }) else { return nil }
        return (String(trace), String(span), String(flags))
    }

    private static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Ids come from SplitMix64 over a counter with a random start: distinct and well spread, and
    /// without a system call per request (the system generator is read once per process).
    private static let seed = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)

    private static func nextRandom() -> UInt64 {
        var z = seed &+ counter.wrappingAdd(1, ordering: .relaxed).newValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        let value = z ^ (z >> 31)
        return value == 0 ? 1 : value
    }

    /// 16 lowercase hex digits.
    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
