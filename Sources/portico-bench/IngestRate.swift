import Foundation
import Logging
import PorticoConfig
import PorticoStore

/// Call-log ingest into a store, for bench/cluster.sh: `writers` concurrent writers (as many
/// nodes) each insert their share of `total` gateway-shaped calls in the writer's batches of
/// 1,000, each call of a node in its own minute's rollups, as the call log does. Prints records
/// per second (wall clock, all writers together) and this process's CPU per record.
enum IngestRate {
    static func run(store target: String, calls total: Int, writers: Int) async throws {
        var config = StoreConfig()
        if target.hasPrefix("postgres://") {
            config.postgres = try PostgresURL(parsing: target)
        } else {
            config.sqlitePath = target
        }
        var logger = Logger(label: "portico.bench")
        logger.logLevel = .error
        let size = CallLogWriter.batchSize
        let perWriter = max(1, total / writers / size)
        // Packed before the clock starts, as the request path packs them.
        let batches = (0..<writers).map { writer in
            (0..<perWriter).map { batch in
                CallRecordBatch(
                    (0..<size).map { index in
                        let number = (writer * perWriter + batch) * size + index
                        var record = CallRecord(
                            time: Date(), requestID: "node\(writer)-\(number)", method: "GET",
                            path: "/petstore/pets/\(number % 100)",
                            api: "petstore", route: "getPetById", status: number % 50 == 0 ? 503 : 200, bytesIn: 0,
                            bytesOut: 103,
                            totalMilliseconds: Double(number % 40) / 4 + 0.2, upstreamMilliseconds: 0.1,
                            target: "http://127.0.0.1:18180",
                            clientAddress: "127.0.0.1", error: nil)
                        record.consumer = "consumer-\(number % 50)"
                        record.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
                        return record
                    })
            }
        }
        let calls = writers * perWriter * size
        let (seconds, cpu) = try await DataStores.with(config, logger: logger) { store in
            _ = try await store.callCount()  // migrated and connected before the clock starts
            let before = (ContinuousClock.now, WriterCost.cpuSeconds())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in batches {
                    group.addTask { for batch in writer { try await store.insert(batch) } }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - before.0
            guard try await store.callCount() >= calls else { throw IngestError.missing }
            return (
                Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                WriterCost.cpuSeconds() - before.1
            )
        }
        let kind = config.postgres == nil ? "sqlite" : "postgres"
        print(
            String(
                format: "ingest %@: %d writers, %d calls, %.0f records/s, %.2f us of gateway CPU per record", kind,
                writers, calls, Double(calls) / seconds, cpu / Double(calls) * 1e6))
    }

    enum IngestError: Error { case missing }
}
