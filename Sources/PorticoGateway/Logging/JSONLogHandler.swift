import Foundation
import Logging
import PorticoConfig
import PorticoStore
import Synchronization

/// A swift-log handler that writes one JSON object per line to standard output:
/// `{"time": …, "level": …, "logger": …, "msg": …, <metadata keys>…}`.
///
/// Metadata keys are dotted (`request.id`, `upstream.name`) and become top-level fields. Portico
/// never puts a key, token, password or cookie in a message or metadata; the access log's lines
/// (also JSON, with `request_id`) go to the same stream.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: Output

    /// Where lines go; one write per line, under a lock, so lines from several threads never interleave.
    final class Output: Sendable {
        private let handle: Mutex<FileHandle>
        init(_ handle: FileHandle) { self.handle = Mutex(handle) }
        func write(_ line: String) { handle.withLock { $0.write(Data(line.utf8)) } }
    }

    private static let standardOutput = Output(.standardOutput)

    package init(label: String, level: Logger.Level, output: FileHandle? = nil) {
        self.label = label
        self.logLevel = level
        self.output = output.map(Output.init) ?? Self.standardOutput
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var line = "{\"time\":\"\(CallRecord.timestamp(Date()))\",\"level\":\"\(event.level.rawValue)\""
        line += ",\"logger\":\(JSONText.quote(label)),\"msg\":\(JSONText.quote(event.message.description))"
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() where !["time", "level", "logger", "msg"].contains(key) {
            line += ",\(JSONText.quote(key)):\(JSONText.quote(merged[key]!.description))"
        }
        output.write(line + "}\n")
    }

    /// The level to log at: `--log-level` if given, else `PORTICO_LOG_LEVEL`, else the config's `server.log-level`.
    package static func level(flag: Logger.Level?, environment: [String: String], config: String) -> Logger.Level {
        if let flag { return flag }
        if let text = environment["PORTICO_LOG_LEVEL"], let level = Logger.Level(rawValue: text.lowercased()) {
            return level
        }
        return Logger.Level(rawValue: config) ?? .info
    }
}
