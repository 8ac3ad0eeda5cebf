/// How an upstream spreads requests over its targets.
package enum BalanceStrategy: String, Sendable, Hashable, CaseIterable {
    case roundRobin = "round-robin"
    case leastRequest = "least-request"
    case consistentHash = "consistent-hash"
    case random
}

/// What consistent hashing hashes.
package enum HashKey: Sendable, Hashable {
    case header(String)
    case cookie(String)
    case clientIP
    case path
    /// The authenticated consumer's name (the client's IP for requests without one).
    case consumer

    /// Parses `header:NAME`, `cookie:NAME`, `ip`, `path` or `consumer`.
    package init?(parsing text: String) {
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
package struct ActiveHealthConfig: Sendable, Hashable {
    package var path: String = "/healthz"
    package var interval: ConfigDuration = .seconds(5)
    package var timeout: ConfigDuration = .seconds(1)
    /// Good probes in a row that bring a target back.
    package var healthy = 2
    /// Failed probes in a row that take a target out.
    package var unhealthy = 3
    /// Statuses that pass; empty means any 2xx or 3xx.
    package var statuses: [Int] = []

    package init() {}
}

/// Ejection of targets that fail real requests.
package struct PassiveHealthConfig: Sendable, Hashable {
    /// Failures in a row (5xx answers, connect failures, resets, timeouts) that eject a target.
    package var consecutiveFailures = 5
    /// The first ejection's length; each ejection in a row doubles it, up to ten times.
    package var ejection: ConfigDuration = .seconds(30)

    package init() {}
}

/// The circuit breaker, applied per target and per upstream.
package struct CircuitBreakerConfig: Sendable, Hashable {
    /// The share of failed calls in the window that opens the breaker (0 to 1).
    package var failureRate = 0.5
    /// How many recent calls the failure rate is computed over.
    package var window = 20
    /// The fewest calls in the window before the breaker may open.
    package var minCalls = 10
    /// Calls slower than this count as failures.
    package var slowCall: ConfigDuration?
    /// How long an open breaker refuses calls before it lets probes through.
    package var openFor: ConfigDuration = .seconds(30)
    /// Probes that must all succeed to close a half-open breaker.
    package var halfOpenCalls = 3
    /// The answer while open, instead of 503 problem+json.
    package var fallback: MockResponse?

    package init() {}
}

/// When a failed try is tried again on another target.
package struct RetryConfig: Sendable, Hashable {
    package enum Condition: Sendable, Hashable {
        /// The connection could not be opened (refused, unreachable, connect timeout).
        case connectFailure
        /// The connection closed or reset before any response byte.
        case reset
        /// The try timed out waiting for the response head.
        case timeout
        /// The target answered with this status.
        case status(Int)

        package init?(parsing text: String) {
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
    package var attempts = 0
    package var on: Set<Condition> = [.connectFailure, .reset]
    /// Retries allowed as a share of recent requests (0 to 1), over 10 seconds.
    package var budget = 0.2
    /// The first back-off; it doubles per retry, with jitter.
    package var backoff: ConfigDuration = .init(milliseconds: 25)

    package init() {}
}

/// Targets taken from DNS: every A (and AAAA) record of a name, re-resolved on an interval.
package struct DNSTargetsConfig: Sendable, Hashable {
    package enum Family: String, Sendable, Hashable, CaseIterable {
        case any
        case ipv4
        case ipv6
    }

    package var name: String
    package var port: Int
    package var interval: ConfigDuration = .seconds(10)
    package var scheme: String = "http"
    package var family: Family = .any
    /// The weight of each resolved target.
    package var weight = 1

    package init(name: String, port: Int) {
        self.name = name
        self.port = port
    }
}
