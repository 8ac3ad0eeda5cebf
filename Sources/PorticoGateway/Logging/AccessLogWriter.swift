import Foundation
import PorticoStore
import ServiceLifecycle

/// Writes one JSON line per call to standard output, batched off the request path.
///
/// Requests append to a bounded queue (8 MiB of lines); the service writes it out every 100 ms
/// and once more at shutdown. When the queue is full, lines are dropped and counted.
public final class AccessLogWriter: CallRecordSink, Service {
    private let queue: BatchQueue<String>
    private let output: FileHandle

    public init(output: FileHandle = .standardOutput, bufferLimit: Int = 8 << 20) {
        self.output = output
        self.queue = BatchQueue(capacity: bufferLimit)
    }

    public func record(_ call: CallRecord) {
        let line = call.jsonLine
        queue.append(line, cost: line.utf8.count + 1)
    }

    /// Lines dropped because the queue was full.
    public var droppedLines: Int { queue.dropped }

    public func run() async throws {
        await BatchQueue<String>.flushPeriodically(every: .milliseconds(100)) { self.flush() }
    }

    /// Writes out what is queued.
    public func flush() {
        let lines = queue.drain()
        guard !lines.isEmpty else { return }
        var text = lines.joined(separator: "\n")
        text += "\n"
        output.write(Data(text.utf8))
    }
}
