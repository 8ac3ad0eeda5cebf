import Synchronization

/// Request ids: a random per-process prefix and a counter, so ids are unique without a random
/// draw (a system call) on every request.
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        let random = UInt64.random(in: 0..<(1 << 48))
        let hex = String(random, radix: 16)
        self.prefix = String(repeating: "0", count: 12 - hex.count) + hex
    }

    func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let hex = String(value, radix: 16)
        return prefix + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// A client's id is kept when it is 1 to 128 characters of letters, digits and `-_.:+/=`.
    static func isValid(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "-_.:+/=".utf8.contains(byte)
            }
        }
    }
}
