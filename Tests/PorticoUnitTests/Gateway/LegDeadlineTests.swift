import NIOCore
import Testing

@testable import PorticoGateway

/// `LegDeadline` on a made-up clock: one pending check serves a whole kept-alive connection.
@Suite("Upstream leg deadlines")
struct LegDeadlineTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }

    @Test("a check is scheduled once; activity and later requests reuse it, and silence fails the try")
    func reuse() {
        var deadline = LegDeadline()
        // The first request's head timeout schedules the one check.
        #expect(deadline.arm(.milliseconds(1000), failing: .timeout, now: Self.at(0)) == Self.at(1000))
        // The body's idle timeout, due later, rides on it.
        #expect(deadline.arm(.milliseconds(1000), failing: .cutOff, now: Self.at(100)) == nil)
        deadline.touch(now: Self.at(600))
        // The check runs: the body was active 400 ms ago, so it waits for what is left.
        #expect(deadline.fired(now: Self.at(1000)) == .schedule(Self.at(1600)))
        // The response ended; the next request arms again, after the pending check.
        deadline.clear()
        #expect(deadline.arm(.milliseconds(1000), failing: .timeout, now: Self.at(1200)) == nil)
        #expect(deadline.fired(now: Self.at(1600)) == .schedule(Self.at(2200)))
        // Silence past the limit fails the try with what was watched.
        #expect(deadline.fired(now: Self.at(2200)) == .fail(.timeout))
    }

    @Test("a shorter limit than the pending check's schedules an earlier one; nothing watched does nothing")
    func earlier() {
        var deadline = LegDeadline()
        #expect(deadline.arm(.seconds(60), failing: .timeout, now: Self.at(0)) == Self.at(60_000))
        #expect(deadline.arm(.milliseconds(500), failing: .cutOff, now: Self.at(10)) == Self.at(510))
        deadline.clear()
        #expect(deadline.fired(now: Self.at(510)) == .none)
        // After `stop` (the leg closed) the next arm schedules afresh.
        _ = deadline.arm(.seconds(5), failing: .timeout, now: Self.at(600))
        deadline.stop()
        #expect(deadline.pending == nil)
        #expect(deadline.arm(.seconds(5), failing: .timeout, now: Self.at(700)) == Self.at(5700))
    }
}
