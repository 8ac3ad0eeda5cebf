/// How an upstream spreads requests over its targets.
public enum BalanceStrategy: String, Sendable, Hashable, CaseIterable {
    case roundRobin = "round-robin"
    case leastRequest = "least-request"
    case consistentHash = "consistent-hash"
    case random
}

/// What consistent hashing hashes.
public enum HashKey: Sendable, Hashable {
    case header(String)
    case cookie(String)
    case clientIP
    case path
    /// The authenticated consumer's name (the client's IP for requests without one).
    case consumer

    /// Parses `header:NAME`, `cookie:NAME`, `ip`, `path` or `consumer`.
    public init?(parsing text: String) {
        if text == "ip" {
            self = .clientIP
        } else if text == "consumer" {
            self = .consumer
        } else if text == "path" {
            self = .path
        } else if text.hasPrefix("header:"), text.count > 7 {
            self = .header(String(text.dropFirst(7)))
        } else if text.hasPrefix("cookie:"), text.count > 7 {
            self = .cookie(String(text.dropFirst(7)))
        } else {
            return nil
        }
    }
}

/// Periodic probes of each target.
public struct ActiveHealthConfig: Sendable, Hashable {
    public var path: String = "/healthz"
    public var interval: ConfigDuration = .seconds(5)
    public var timeout: ConfigDuration = .seconds(1)
    /// Good probes in a row that bring a target back.
    public var healthy = 2
    /// Failed probes in a row that take a target out.
    public var unhealthy = 3
    /// Statuses that pass; empty means any 2xx or 3xx.
    public var statuses: [Int] = []

    public init() {}
}

/// Ejection of targets that fail real requests.
public struct PassiveHealthConfig: Sendable, Hashable {
    /// Failures in a row (5xx answers, connect failures, resets, timeouts) that eject a target.
    public var consecutiveFailures = 5
    /// The first ejection's length; each ejection in a row doubles it, up to ten times.
    public var ejection: ConfigDuration = .seconds(30)

    public init() {}
}

/// The circuit breaker, applied per target and per upstream.
public struct CircuitBreakerConfig: Sendable, Hashable {
    /// The share of failed calls in the window that opens the breaker (0 to 1).
    public var failureRate = 0.5
    /// How many recent calls the failure rate is computed over.
    public var window = 20
    /// The fewest calls in the window before the breaker may open.
    public var minCalls = 10
    /// Calls slower than this count as failures.
    public var slowCall: ConfigDuration?
    /// How long an open breaker refuses calls before it lets probes through.
    public var openFor: ConfigDuration = .seconds(30)
    /// Probes that must all succeed to close a half-open breaker.
    public var halfOpenCalls = 3
    /// The answer while open, instead of 503 problem+json.
    public var fallback: MockResponse?

    public init() {}
}

/// When a failed try is tried again on another target.
public struct RetryConfig: Sendable, Hashable {
    public enum Condition: Sendable, Hashable {
        /// The connection could not be opened (refused, unreachable, connect timeout).
        case connectFailure
        /// The connection closed or reset before any response byte.
        case reset
        /// The try timed out waiting for the response head.
        case timeout
        /// The target answered with this status.
        case status(Int)

        public init?(parsing text: String) {
            switch text {
            case "connect-failure": self = .connectFailure
            case "reset": self = .reset
            case "timeout": self = .timeout
            default:
                guard let status = Int(text), (500...599).contains(status) else { return nil }
                self = .status(status)
            }
        }
    }

    /// Extra tries after the first.
    public var attempts = 0
    public var on: Set<Condition> = [.connectFailure, .reset]
    /// Retries allowed as a share of recent requests (0 to 1), over 10 seconds.
    public var budget = 0.2
    /// The first back-off; it doubles per retry, with jitter.
    public var backoff: ConfigDuration = .init(milliseconds: 25)

    public init() {}
}

/// Targets taken from DNS: every A (and AAAA) record of a name, re-resolved on an interval.
public struct DNSTargetsConfig: Sendable, Hashable {
    public enum Family: String, Sendable, Hashable, CaseIterable {
        case any
        case ipv4
        case ipv6
    }

    public var name: String
    public var port: Int
    public var interval: ConfigDuration = .seconds(10)
    public var scheme: String = "http"
    public var family: Family = .any
    /// The weight of each resolved target.
    public var weight = 1

    public init(name: String, port: Int) {
        self.name = name
        self.port = port
    }
}
