import Foundation
import PorticoStore

/// The call log writer's CPU per call, for bench/analytics.sh: the gateway's own traffic shape
/// (one route, one client, request ids from one counter) rather than the worst-case mix of the
/// insert-throughput run, in the writer's batches of 1,000.
///
/// The records are made and packed before the clock starts; the process's CPU time (user and system, all
/// threads: the batching on the caller's task, SQLite on GRDB's writer queue, the kernel's WAL
/// writes) over the inserts, divided by the calls. Compare with the SQLite floor printed by
/// bench/analytics.sh, which inserts the same rows from SQL alone.
enum WriterCost {
    static func run(store path: String, calls total: Int) async throws {
        let store = try SQLiteStore(path: path)
        let prefix = "0123456789ab"
        let size = CallLogWriter.batchSize
        // Packed as the request path packs them (CallRecordBatch); the writer's work starts there.
        let batches = (0..<max(1, total / size)).map { batch in
            CallRecordBatch(
                (0..<size).map { index in
                    let counter = String(batch * size + index, radix: 16)
                    var record = CallRecord(
                        time: Date(), requestID: prefix + String(repeating: "0", count: 12 - counter.count) + counter,
                        method: "GET",
                        path: "/petstore/pets/1", api: "petstore", route: "getPetById", status: 200, bytesIn: 0,
                        bytesOut: 103,
                        totalMilliseconds: 0.3, upstreamMilliseconds: 0.1, target: "http://127.0.0.1:18180",
                        clientAddress: "127.0.0.1", error: nil)
                    record.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
                    return record
                })
        }
        let calls = batches.count * size
        let before = cpuSeconds()
        for batch in batches { try await store.insert(batch) }
        let cpu = cpuSeconds() - before
        print(
            String(format: "writer: %d gateway-shaped calls, %.2f us of CPU per call", calls, cpu / Double(calls) * 1e6)
        )
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
