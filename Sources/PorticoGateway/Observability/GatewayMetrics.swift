import CoreMetrics
import Foundation
import Metrics
import PorticoConfig
import PorticoStore
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, recorded through swift-metrics into this instance's own
/// registry (not the process-wide `MetricsSystem`, so several gateways in one test process stay
/// apart). Request metrics are recorded in the log phase; the state of upstreams, the call log
/// and reloads is read when `/metrics` is scraped.
///
/// Label values come only from the config (API and route names, upstream names and target URLs,
/// limit names) or from small fixed sets (method, status class, cache outcome, auth failure),
/// never from request paths, so the number of series stays bounded.
package final class GatewayMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let handles = Mutex<[RequestLabels: RequestHandles]>([:])
    private let counters = Mutex<[String: (counter: CoreMetrics.Counter, seen: Int)]>([:])

    /// Latency buckets from 1 ms to 10 s.
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    package init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets
        self.registry = registry
        self.factory = factory
    }

    private struct RequestLabels: Hashable {
        var api: String
        var route: String
        var method: String
        var statusClass: String
        /// The cache's outcome on cached routes, so its counter is found with the others.
        var cache: String?
    }

    private struct RequestHandles: @unchecked Sendable {
        // swift-metrics handles are thread-safe reference types; handles with the same labels share one series.
        let requests: CoreMetrics.Counter
        let total: Metrics.Timer
        let upstream: Metrics.Timer
        let cache: CoreMetrics.Counter?
    }

    private static let statusClasses = (0...9).map { "\($0)xx" }

    /// Records one finished call.
    ///
    /// - Parameter authFailure: why authentication or authorization refused it (`missing`,
    ///   `invalid`, `forbidden`, `unavailable`), if it did.
    package func observe(_ call: CallRecord, authFailure: String?) {
        let labels = RequestLabels(
            api: call.api ?? "none", route: call.route ?? "none",
            method: Self.methods.contains(call.method) ? call.method : "OTHER",
            statusClass: Self.statusClasses[min(max(call.status / 100, 0), 9)], cache: call.cache)
        let handles = self.handles.withLock { handles in
            if let existing = handles[labels] { return existing }
            let routeDimensions = [("api", labels.api), ("route", labels.route)]
            let made = RequestHandles(
                requests: CoreMetrics.Counter(
                    label: "portico_requests_total",
                    dimensions: routeDimensions + [("method", labels.method), ("status_class", labels.statusClass)],
                    factory: factory),
                total: Metrics.Timer(
                    label: "portico_request_duration_seconds", dimensions: routeDimensions, factory: factory),
                upstream: Metrics.Timer(
                    label: "portico_upstream_duration_seconds", dimensions: routeDimensions, factory: factory),
                cache: labels.cache.map { outcome in
                    CoreMetrics.Counter(
                        label: "portico_cache_requests_total", dimensions: routeDimensions + [("outcome", outcome)],
                        factory: factory)
                })
            handles[labels] = made
            return made
        }
        handles.requests.increment()
        handles.total.recordNanoseconds(Int64(call.totalMilliseconds * 1_000_000))
        if let upstream = call.upstreamMilliseconds { handles.upstream.recordNanoseconds(Int64(upstream * 1_000_000)) }
        handles.cache?.increment()
        // Refusals and auth failures are rare: their counters are looked up when they happen.
        if let decision = call.rateLimit, decision.hasPrefix("refused ") {
            let policy = String(decision.dropFirst("refused ".count))
            count(
                "portico_rate_limit_refusals_total", [("api", labels.api), ("route", labels.route), ("policy", policy)])
        }
        if let authFailure { count("portico_auth_failures_total", [("api", labels.api), ("reason", authFailure)]) }
        if let validation = call.validation {
            for direction in ["request", "response"]
            where validation.hasPrefix(direction) || validation.contains("; " + direction + " ") {
                count(
                    "portico_validation_failures_total",
                    [("api", labels.api), ("route", labels.route), ("direction", direction)])
            }
        }
    }

    private func count(_ name: String, _ dimensions: [(String, String)]) {
        CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory).increment()
    }

    /// Sets a counter that mirrors a running total kept elsewhere (drops, reloads) to `total`.
    private func mirror(_ name: String, _ dimensions: [(String, String)], total: Int) {
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        counters.withLock { counters in
            let entry = counters[key] ?? (CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory), 0)
            if total > entry.seen { entry.counter.increment(by: total - entry.seen) }
            counters[key] = (entry.counter, max(total, entry.seen))
        }
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    /// The Prometheus text exposition, after reading the current state of upstreams, the call log and reloads.
    package func exposition(runtime: GatewayRuntime, callLog: CallLogWriter?) -> String {
        let snapshot = runtime.snapshot
        let now = ContinuousClock.now
        for upstream in snapshot.config.upstreams {
            guard let pool = snapshot.pools[upstream.name] else { continue }
            for target in pool.targets {
                let report = target.report(now: now)
                let labels = [("upstream", upstream.name), ("target", target.config.origin + target.config.basePath)]
                gauge(
                    "portico_upstream_target_healthy", labels,
                    report.healthy && !report.ejected && !report.drained ? 1 : 0)
                gauge("portico_upstream_breaker_state", labels, Self.breakerValue(report.breaker))
                gauge("portico_upstream_in_flight", labels, Double(report.inFlight))
            }
        }
        if let callLog {
            gauge("portico_call_log_queue_depth", [], Double(callLog.queuedCount))
            mirror("portico_call_log_dropped_total", [], total: callLog.droppedCount)
            mirror("portico_call_log_written_total", [], total: callLog.writtenCount)
        }
        let reloads = runtime.reloadHistory
        mirror("portico_reloads_total", [("result", "success")], total: reloads.succeeded)
        mirror("portico_reloads_total", [("result", "failure")], total: reloads.failed)
        if let redis = runtime.limits.store as? RedisLimiterStore {
            let failures = redis.health.failures
            for mode in StoreFailureMode.allCases {
                mirror("portico_limit_store_failures_total", [("mode", mode.rawValue)], total: failures[mode] ?? 0)
            }
            gauge("portico_limit_store_connected", [], Double(redis.client.status.connected))
            gauge("portico_limit_store_degraded", [], redis.health.degradedSince == nil ? 0 : 1)
        }
        let cache = runtime.cache.store.statistics
        gauge("portico_cache_bytes", [], Double(cache.bytes))
        gauge("portico_cache_budget_bytes", [], Double(cache.budget))
        gauge("portico_cache_entries", [], Double(cache.entries))
        mirror("portico_cache_evictions_total", [], total: cache.evictions)
        return registry.emitToString()
    }

    /// 0 closed (or no breaker), 1 half-open, 2 open.
    static func breakerValue(_ state: String?) -> Double {
        switch state {
        case "open": return 2
        case "half-open": return 1
        default: return 0
        }
    }
}
