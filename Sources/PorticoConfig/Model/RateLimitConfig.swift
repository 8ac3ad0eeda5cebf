import Foundation

/// A rate written `10/s`, `600/m`, `1000/h` or `5000/d`: so many requests per period.
package struct RateSpec: Sendable, Hashable, CustomStringConvertible {
    package var count: Int
    /// The period in seconds.
    package var period: Int

    package init(count: Int, period: Int) {
        self.count = count
        self.period = period
    }

    /// The most requests one period may hold: a billion, and at most one per microsecond (the
    /// limiters' clock tick), so one request's interval is at least a microsecond.
    package static let maximumCount = 1_000_000_000

    package init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            (1...Self.maximumCount).contains(count)
        else { return nil }
        let unit = parts[1].trimmingCharacters(in: .whitespaces)
        let seconds: [String: Int] = [
            "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86_400,
            "day": 86_400,
        ]
        guard let period = seconds[unit], count <= period * 1_000_000 else { return nil }
        self.init(count: count, period: period)
    }

    package var description: String {
        let unit = [1: "s", 60: "m", 3600: "h", 86_400: "d"][period] ?? "\(period)s"
        return "\(count)/\(unit)"
    }
}

/// A quota written `10000/month`, `500/day` or `100/hour`: so many requests per calendar window.
package struct QuotaSpec: Sendable, Hashable, CustomStringConvertible {
    package enum Window: String, Sendable, Hashable, CaseIterable {
        case hour, day, month
    }

    package var count: Int
    package var window: Window

    /// A trillion: counts stay exact as the doubles of the Redis store's script.
    package static let maximumCount = 1_000_000_000_000

    package init(count: Int, window: Window) {
        self.count = count
        self.window = window
    }

    package init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            (1...Self.maximumCount).contains(count),
            let window = Window(rawValue: parts[1].trimmingCharacters(in: .whitespaces))
        else { return nil }
        self.init(count: count, window: window)
    }

    package var description: String { "\(count)/\(window.rawValue)" }
}

/// What a limit counts by. Several parts make one key (`by: [consumer, route]`).
package enum LimitKeyPart: Sendable, Hashable, CustomStringConvertible {
    /// The authenticated consumer (the client address for requests without one).
    case consumer
    /// The credential: the API key, token subject or user that authenticated.
    case credential
    /// The client address, taken from `X-Forwarded-For` behind trusted proxies.
    case ip
    case route
    case api
    case header(String)

    package init?(parsing text: String) {
        switch text {
        case "consumer": self = .consumer
        case "key", "credential": self = .credential
        case "ip": self = .ip
        case "route": self = .route
        case "api": self = .api
        default:
            guard text.hasPrefix("header:"), text.count > 7 else { return nil }
            self = .header(String(text.dropFirst(7)))
        }
    }

    package var description: String {
        switch self {
        case .consumer: return "consumer"
        case .credential: return "key"
        case .ip: return "ip"
        case .route: return "route"
        case .api: return "api"
        case .header(let name): return "header:\(name)"
        }
    }
}

/// One limit: a rate (GCRA or sliding window), a quota, or both, counted by a key.
package struct LimitConfig: Sendable, Hashable {
    package enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case gcra
        case slidingWindow = "sliding-window"
    }

    /// The policy's name in `RateLimit-Policy`; defaults to one made from the settings.
    package var name: String?
    package var rate: RateSpec?
    /// Requests allowed at once; defaults to the rate's count.
    package var burst: Int?
    package var quota: QuotaSpec?
    package var algorithm: Algorithm = .gcra
    package var by: [LimitKeyPart] = [.consumer]
    /// What to do when the shared store cannot answer; nil takes `limits.on-store-failure`.
    package var onStoreFailure: StoreFailureMode?

    /// The most a sliding window's limit × window (in ms) may be, 2^52: its weighted counts stay
    /// exact as doubles in the Redis store's script (52 million a day, or 1.25 billion an hour).
    package static let maximumSlidingProduct: Int64 = 1 << 52

    /// Whether a sliding window of `limit` requests per `period` seconds is within `maximumSlidingProduct`.
    package static func slidingWindowFits(limit: Int, period: Int) -> Bool {
        let (product, overflow) = Int64(limit).multipliedReportingOverflow(by: Int64(period) * 1000)
        return !overflow && product <= maximumSlidingProduct
    }

    package init(rate: RateSpec? = nil, burst: Int? = nil, quota: QuotaSpec? = nil, by: [LimitKeyPart] = [.consumer]) {
        self.rate = rate
        self.burst = burst
        self.quota = quota
        self.by = by
    }
}

/// A plan: the limits every consumer on it gets, counted per consumer across all APIs.
package struct PlanConfig: Sendable, Hashable {
    package var name: String
    package var rate: RateSpec?
    package var burst: Int?
    package var quota: QuotaSpec?
    package var algorithm: LimitConfig.Algorithm = .gcra
    package var onStoreFailure: StoreFailureMode?

    package init(name: String) { self.name = name }

    /// The plan as a limit counted by consumer.
    package var limit: LimitConfig {
        var limit = LimitConfig(rate: rate, burst: burst, quota: quota, by: [.consumer])
        limit.name = name
        limit.algorithm = algorithm
        limit.onStoreFailure = onStoreFailure
        return limit
    }
}

/// Settings that apply to all limits: the `limits` root section.
package struct LimitsSettings: Sendable, Hashable {
    /// The time zone in which quota days and months begin.
    package var timeZone = "UTC"
    /// Also send `X-RateLimit-Limit`, `-Remaining` and `-Reset` for old clients.
    package var legacyHeaders = false
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed when finding the client address.
    package var trustedProxies: [String] = []
    /// The most keys the in-memory limiter keeps; idle ones go first.
    package var maxKeys = 1_000_000
    /// Where limit state lives: this node's memory (nil), or a Redis server shared by the cluster.
    package var store: LimitStoreConfig?
    /// What a limit does when the shared store cannot answer, unless it says otherwise.
    package var onStoreFailure = StoreFailureMode.local

    package init() {}
}
