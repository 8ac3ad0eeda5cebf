import Foundation
import PorticoStore
import ServiceLifecycle
import Synchronization

/// Writes one JSON line per call to standard output, batched off the request path.
///
/// Requests append to a bounded buffer; the service flushes it every 100 ms and once more at
/// shutdown. When the buffer is full, lines are dropped and counted, never waited for.
public final class AccessLogWriter: CallRecordSink, Service {
    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
    }

    private let state = Mutex(State())
    private let limit: Int
    private let output: FileHandle

    public init(output: FileHandle = .standardOutput, bufferLimit: Int = 8 << 20) {
        self.output = output
        self.limit = bufferLimit
    }

    public func record(_ call: CallRecord) {
        let line = call.jsonLine
        state.withLock { state in
            guard state.buffer.count + line.utf8.count < limit else {
                state.dropped += 1
                return
            }
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// Lines dropped because the buffer was full.
    public var droppedLines: Int { state.withLock { $0.dropped } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                if Task.isCancelled { break }
                self.flush()
            }
        }
        flush()
    }

    /// Writes out what is buffered.
    public func flush() {
        let pending = state.withLock { state -> [UInt8] in
            defer { state.buffer.removeAll(keepingCapacity: true) }
            return state.buffer
        }
        guard !pending.isEmpty else { return }
        output.write(Data(pending))
    }
}
