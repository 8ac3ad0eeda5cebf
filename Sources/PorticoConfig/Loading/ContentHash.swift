/// FNV-1a over the bytes of the config files: cheap, stable across runs, enough to tell configs apart.
///
/// Also what names a rate limit's counters, so they are the same in every process and run
/// (Swift's `Hasher` is seeded per process).
package struct ContentHash: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    package mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            state ^= UInt64(byte)
            state = state &* 0x0000_0100_0000_01b3
        }
    }

    /// The hash as a number.
    package var value: UInt64 { state }

    package var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
