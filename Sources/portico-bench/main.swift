// Store benchmark for bench/analytics.sh: insert throughput, then query times over what was inserted.
//   portico-bench STORE_PATH RECORDS
// And for bench/auth.sh: portico-bench jwt FOLDER (keys and tokens, JWTFixtures.swift) and
// portico-bench auth CONFIG ROUNDS ITERATIONS (the policy chain in a loop, AuthCost.swift).
// And for bench/ratelimit.sh: portico-bench limits KEYS ROUNDS (LimitCost.swift).
// And for bench/fuzz.sh: portico-bench fuzz TARGET COUNT [SEED] (Fuzz.swift).
// And for bench/analytics.sh: portico-bench writer STORE_PATH CALLS, the writer's CPU per call (WriterCost.swift).
// And for bench/edge.sh: portico-bench edge CONFIG ROUNDS ITERATIONS (EdgeCost.swift).
// And for bench/openapi.sh: portico-bench validation CONFIG ROUNDS (ValidationCost.swift).
// And for bench/cluster.sh: portico-bench ingest STORE_PATH|POSTGRES_URL CALLS WRITERS (IngestRate.swift).
// Inserts RECORDS synthetic calls spread over the 24 hours before now (20 routes, 100 consumers,
// realistic statuses and latencies) in the gateway's batches of 1,000, then times a 24-hour time
// series and top-10 breakdowns, which read the rollups.
import Foundation
import PorticoStore

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "jwt" {
    try await JWTFixtures.write(to: arguments[2])
    exit(0)
}
if arguments.count == 4, arguments[1] == "limits", let keys = Int(arguments[2]), let rounds = Int(arguments[3]) {
    LimitCost.run(keys: keys, rounds: rounds)
    exit(0)
}
if arguments.count == 5, arguments[1] == "auth", let rounds = Int(arguments[3]), let iterations = Int(arguments[4]) {
    try await AuthCost.run(config: arguments[2], rounds: rounds, iterations: iterations)
    exit(0)
}
if (4...5).contains(arguments.count), arguments[1] == "fuzz", let count = Int(arguments[3]) {
    try Fuzz.run(target: arguments[2], count: count, seed: arguments.count == 5 ? UInt64(arguments[4]) ?? 1 : 1)
    exit(0)
}
if arguments.count == 5, arguments[1] == "edge", let rounds = Int(arguments[3]), let iterations = Int(arguments[4]) {
    try EdgeCost.run(config: arguments[2], rounds: rounds, iterations: iterations)
    exit(0)
}
if arguments.count == 4, arguments[1] == "validation", let rounds = Int(arguments[3]) {
    try ValidationCost.run(config: arguments[2], rounds: rounds)
    exit(0)
}
if arguments.count == 5, arguments[1] == "ingest", let calls = Int(arguments[3]), let writers = Int(arguments[4]) {
    try await IngestRate.run(store: arguments[2], calls: calls, writers: writers)
    exit(0)
}
if arguments.count == 4, arguments[1] == "writer", let calls = Int(arguments[3]) {
    try await WriterCost.run(store: arguments[2], calls: calls)
    exit(0)
}
guard arguments.count == 3, let total = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: portico-bench STORE_PATH RECORDS\n".utf8))
    exit(2)
}
let store = try SQLiteStore(path: arguments[1])
let now = Date()
let start = now.addingTimeInterval(-86_400)
func batch(_ first: Int, _ count: Int) -> [CallRecord] {
    var generator = SystemRandomNumberGenerator()
    return (first..<first + count).map { index in
        let time = start.addingTimeInterval(86_400 * Double(index) / Double(total))
        let roll = Int.random(in: 0..<100, using: &generator)
        let status = roll < 90 ? 200 : roll < 95 ? 404 : roll < 98 ? 429 : 503
        let latency = exp(Double.random(in: 0...6, using: &generator))
        return CallRecord(
            time: time, requestID: String(index), method: "GET", path: "/api/items/\(index % 1000)", api: "shop",
            version: "v1", consumer: "consumer-\(index % 100)", route: "route-\(index % 20)", status: status,
            bytesIn: 0,
            bytesOut: 512, totalMilliseconds: latency, upstreamMilliseconds: latency * 0.8,
            target: "http://127.0.0.1:9000",
            clientAddress: "127.0.0.1", error: status >= 500 ? "bad-gateway" : nil)
    }
}

// Only the writes are timed (the gateway makes its records on the request path, not here): the
// batches, and the roll-ups of finished hours' minutes into hours and days that the writer runs
// as time passes (here whenever the records' time enters a new hour).
var inserting = Duration.zero
var rolling = Duration.zero
var written = 0
var rolledHour = Int64(start.timeIntervalSince1970) / 3600
while written < total {
    let count = min(CallLogWriter.batchSize, total - written)
    let records = batch(written, count)
    let began = ContinuousClock.now
    try await store.insert(records)
    inserting += ContinuousClock.now - began
    written += count
    let hour = Int64(records.last!.time.timeIntervalSince1970) / 3600
    if hour > rolledHour || written == total {
        let rollBegan = ContinuousClock.now
        try await store.rollUp(before: records.last!.time)
        rolling += ContinuousClock.now - rollBegan
        rolledHour = hour
    }
}
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
let elapsed = seconds(inserting + rolling)
print(
    String(
        format: "insert: %d records in %.1f s = %.0f records/s (batches %.1f s, hourly roll-ups %.1f s)",
        total, elapsed, Double(total) / elapsed, seconds(inserting), seconds(rolling)))

func timed(_ name: String, _ body: () async throws -> Int) async throws {
    var best = Double.infinity
    var rows = 0
    for _ in 0..<3 {
        let began = ContinuousClock.now
        rows = try await body()
        let (seconds, attoseconds) = (ContinuousClock.now - began).components
        best = min(best, Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }
    print(String(format: "%@: %.1f ms (best of 3, %d rows)", name, best, rows))
}

let day = AnalyticsFilter(from: start, to: now.addingTimeInterval(60))
try await timed("24 h time series, 1 h buckets") { try await store.timeSeries(day, bucketSeconds: 3600).count }
try await timed("24 h time series, 5 min buckets") { try await store.timeSeries(day, bucketSeconds: 300).count }
try await timed("top 10 routes over 24 h") { try await store.top(.route, day, limit: 10).count }
try await timed("top 10 consumers over 24 h") { try await store.top(.consumer, day, limit: 10).count }
