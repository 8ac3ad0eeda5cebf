import Foundation
import PorticoStore
import ServiceLifecycle

/// Writes one JSON line per call to standard output, batched off the request path.
///
/// Requests append their records to a bounded queue (8 MiB by an estimate of each line); the
/// service formats them as bytes (`CallRecord.appendJSONLine`) and writes them every 100 ms and
/// once more at shutdown, so no JSON is made on the request path. When the queue is full, lines
/// are dropped and counted.
package final class AccessLogWriter: CallRecordSink, Service {
    private let queue: BatchQueue<CallRecord>
    private let output: FileHandle

    package init(output: FileHandle = .standardOutput, bufferLimit: Int = 8 << 20) {
        self.output = output
        self.queue = BatchQueue(capacity: bufferLimit)
    }

    package func record(_ call: CallRecord) {
        queue.append(call, cost: Self.estimatedLineBytes(call))
    }

    /// A bound on the line's size without making it: the fixed fields, then the variable ones
    /// (which `jsonLine` may escape up to six bytes per byte; the estimate counts two).
    static func estimatedLineBytes(_ call: CallRecord) -> Int {
        let variable =
            call.path.utf8.count + call.method.utf8.count + (call.consumer?.utf8.count ?? 0)
            + (call.api?.utf8.count ?? 0) + (call.route?.utf8.count ?? 0) + (call.target?.utf8.count ?? 0)
            + (call.rateLimit?.utf8.count ?? 0) + (call.error?.utf8.count ?? 0)
        return 400 + 2 * variable
    }

    /// Lines dropped because the queue was full.
    package var droppedLines: Int { queue.dropped }

    package func run() async throws {
        await BatchQueue<CallRecord>.flushPeriodically(every: .milliseconds(100)) { self.flush() }
    }

    /// Writes out what is queued.
    package func flush() {
        let calls = queue.drain()
        guard !calls.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(calls.count * 400)
        for call in calls {
            call.appendJSONLine(to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        output.write(Data(bytes))
    }
}
