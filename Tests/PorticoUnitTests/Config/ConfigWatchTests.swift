import Testing

@testable import PorticoGateway

@Suite("Config watch decisions")
struct ConfigWatchTests {
    /// Drives the watch against a file whose version at each time is `version(at:)`, from `0` to
    /// `end`, and returns when it asked for reloads.
    static func reloads(
        interval: Duration = .milliseconds(250), settle: Duration = .milliseconds(150), until end: Duration,
        version: (Duration) -> Int
    ) -> [Duration] {
        var watch = ConfigWatch(known: version(.zero), interval: interval, settle: settle)
        var now = watch.firstSleep
        var reloads: [Duration] = []
        while now <= end {
            let current = version(now)
            switch watch.poll(current) {
            case .sleep(let duration):
                now += duration
            case .reload:
                reloads.append(now)
                watch.reloaded(with: current)
                now += interval
            }
        }
        return reloads
    }

    @Test(
        "an editor's three-step save, whenever it falls between polls, is one reload within a second of the last write")
    func burst() {
        // Truncate, half, all: 20 ms apart, starting anywhere within one poll interval.
        for offset in stride(from: 0, through: 250, by: 10) {
            let first = Duration.milliseconds(1000 + offset)
            let last = first + .milliseconds(40)
            let reloads = Self.reloads(until: .seconds(5)) { now in
                now < first ? 0 : now < first + .milliseconds(20) ? 1 : now < last ? 2 : 3
            }
            #expect(reloads.count == 1, "offset \(offset) ms")
            if let reload = reloads.first {
                #expect(reload >= last)
                #expect(reload - last < .seconds(1), "offset \(offset) ms")
            }
        }
    }

    @Test("no change, no reload; two changes far apart, two reloads")
    func quietAndSeparate() {
        #expect(Self.reloads(until: .seconds(10)) { _ in 0 }.isEmpty)
        let reloads = Self.reloads(until: .seconds(10)) { now in now < .seconds(2) ? 0 : now < .seconds(6) ? 1 : 2 }
        #expect(reloads.count == 2)
    }

    @Test("a file rewritten without pause still reloads after the bounded number of settles")
    func endlessWrites() {
        var tick = 0
        let reloads = Self.reloads(until: .seconds(4)) { _ in
            tick += 1
            return tick
        }
        // 250 ms, then 20 settles of 150 ms: the first reload at 3.25 s.
        #expect(reloads.first == .milliseconds(250 + 20 * 150))
    }
}
