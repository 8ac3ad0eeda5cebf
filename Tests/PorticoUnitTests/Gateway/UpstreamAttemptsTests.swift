import PorticoConfig
import Testing

@testable import PorticoGateway

/// `UpstreamAttempts` driven by hand on a fake clock: no server, no sleeping.
@Suite("Upstream attempts")
struct UpstreamAttemptsTests {
    static let start = ContinuousClock.now
    static let upstream = UpstreamConfig(name: "svc", targets: [TargetConfig(url: "http://127.0.0.1:9")!])
    static func target() -> UpstreamTarget { UpstreamTarget(config: upstream.targets[0], upstream: upstream) }

    static func retries(
        _ attempts: Int, on: Set<RetryConfig.Condition> = [.connectFailure, .reset], backoff: Int = 25
    ) -> RetryConfig {
        var config = RetryConfig()
        config.attempts = attempts
        config.on = on
        config.backoff = .init(milliseconds: Int64(backoff))
        return config
    }

    @Test("the targets tried are remembered, the latest one too, for the next choice to avoid")
    func tried() {
        var attempts = UpstreamAttempts(
            settings: Self.retries(2), retryable: true, perTry: .seconds(2), totalTimeout: nil, start: Self.start)
        #expect(attempts.tried.isEmpty)
        let first = Self.target()
        let second = Self.target()
        _ = attempts.next(choice: .target(first), now: Self.start)
        #expect(attempts.tried == [ObjectIdentifier(first)])
        _ = attempts.next(choice: .target(second), now: Self.start)
        #expect(attempts.tried == [ObjectIdentifier(first), ObjectIdentifier(second)])
        _ = attempts.next(choice: .target(first), now: Self.start)
        #expect(attempts.tried == [ObjectIdentifier(first), ObjectIdentifier(second)])
    }

    @Test("a try gets the per-try timeout, cut to what is left of the total; past the total it fails with 504")
    func timeouts() throws {
        var attempts = UpstreamAttempts(
            settings: Self.retries(0), retryable: false, perTry: .seconds(2), totalTimeout: .seconds(3),
            start: Self.start)
        guard case .send(_, let first) = attempts.next(choice: .target(Self.target()), now: Self.start) else {
            Issue.record("expected a send")
            return
        }
        #expect(first == .seconds(2))
        guard
            case .send(_, let second) = attempts.next(
                choice: .target(Self.target()), now: Self.start + .milliseconds(2500))
        else {
            Issue.record("expected a send")
            return
        }
        #expect(second == .milliseconds(500))
        guard case .fail(let error) = attempts.next(choice: .target(Self.target()), now: Self.start + .seconds(3))
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.status.code == 504)
    }

    @Test(
        "failures are retried only when configured, within the attempts, the budget and the deadline, with a doubling back-off"
    )
    func retryRules() {
        let now = Self.start
        var attempts = UpstreamAttempts(
            settings: Self.retries(2), retryable: true, perTry: .seconds(1), totalTimeout: nil, start: now,
            jitter: { 1.0 })
        _ = attempts.next(choice: .target(Self.target()), now: now)
        guard case .retry(let first) = attempts.failed(.reset, now: now, takeBudget: { true }) else {
            Issue.record("a reset is retried")
            return
        }
        #expect(first == .milliseconds(25))
        _ = attempts.next(choice: .target(Self.target()), now: now)
        guard case .retry(let second) = attempts.failed(.connectFailure, now: now, takeBudget: { true }) else {
            Issue.record("a connect failure is retried")
            return
        }
        #expect(second == .milliseconds(50))
        _ = attempts.next(choice: .target(Self.target()), now: now)
        // The third failure: no attempts left.
        guard case .fail(let error) = attempts.failed(.reset, now: now, takeBudget: { true }) else {
            Issue.record("attempts are bounded")
            return
        }
        #expect(error.status.code == 502)
        #expect(attempts.retries == 2)

        // A timeout is not among the conditions; an empty budget refuses; a 5xx only when listed.
        var timeouts = UpstreamAttempts(
            settings: Self.retries(3), retryable: true, perTry: .seconds(1), totalTimeout: nil, start: now)
        _ = timeouts.next(choice: .target(Self.target()), now: now)
        guard case .fail(let timeoutError) = timeouts.failed(.timeout, now: now, takeBudget: { true }) else {
            Issue.record("an unlisted condition fails")
            return
        }
        #expect(timeoutError.status.code == 504)
        var broke = UpstreamAttempts(
            settings: Self.retries(3), retryable: true, perTry: .seconds(1), totalTimeout: nil, start: now)
        _ = broke.next(choice: .target(Self.target()), now: now)
        var asked = 0
        guard
            case .fail = broke.failed(
                .reset, now: now,
                takeBudget: {
                    asked += 1; return false
                })
        else {
            Issue.record("an empty budget fails")
            return
        }
        #expect(asked == 1)
        var statuses = UpstreamAttempts(
            settings: Self.retries(1, on: [.status(503)]), retryable: true, perTry: .seconds(1), totalTimeout: nil,
            start: now)
        _ = statuses.next(choice: .target(Self.target()), now: now)
        guard case .deliver = statuses.answered(status: 500, now: now, takeBudget: { true }) else {
            Issue.record("an unlisted 500 is delivered")
            return
        }
        guard case .retry = statuses.answered(status: 503, now: now, takeBudget: { true }) else {
            Issue.record("a listed 503 is retried")
            return
        }
        guard case .deliver = statuses.answered(status: 200, now: now, takeBudget: { true }) else {
            Issue.record("a 200 is delivered")
            return
        }
    }

    @Test("a request that may not be retried (a body, or not idempotent) fails at once, without asking the budget")
    func notRetryable() {
        var attempts = UpstreamAttempts(
            settings: Self.retries(3), retryable: false, perTry: .seconds(1), totalTimeout: nil, start: Self.start)
        _ = attempts.next(choice: .target(Self.target()), now: Self.start)
        var asked = false
        guard
            case .fail = attempts.failed(
                .reset, now: Self.start,
                takeBudget: {
                    asked = true; return true
                })
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(!asked)
    }

    @Test("the back-off is jittered between half and one and a half times, and never over a second")
    func backoffBounds() {
        for jitter in [0.0, 0.5, 1.0, 1.5, 9.0] {
            var attempts = UpstreamAttempts(
                settings: Self.retries(10, backoff: 400), retryable: true, perTry: .seconds(1), totalTimeout: nil,
                start: Self.start,
                jitter: { jitter })
            var waits: [Duration] = []
            for _ in 0..<5 {
                _ = attempts.next(choice: .target(Self.target()), now: Self.start)
                if case .retry(let wait) = attempts.failed(.reset, now: Self.start, takeBudget: { true }) {
                    waits.append(wait)
                }
            }
            #expect(waits.count == 5)
            #expect(waits.allSatisfy { $0 >= .milliseconds(200) && $0 <= .seconds(1) })
        }
    }

    @Test("open breakers and an empty target list are answered without a try")
    func noTarget() {
        var attempts = UpstreamAttempts(
            settings: Self.retries(0), retryable: false, perTry: .seconds(1), totalTimeout: nil, start: Self.start)
        guard case .unavailable(let wait) = attempts.next(choice: .open(retryAfter: .seconds(7)), now: Self.start)
        else {
            Issue.record("expected unavailable")
            return
        }
        #expect(wait == .seconds(7))
        guard case .fail(let error) = attempts.next(choice: .none, now: Self.start) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.status.code == 502)
    }
}
