/// One problem found in a config file, pinned to where it was found.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in, as the operator named it (or resolved against the config folder).
    public var file: String
    /// 1-based line; 0 when the problem has no position (a missing file, say).
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int
    /// What is wrong, in words an operator can act on.
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form compilers use so editors can jump to it.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// A config that cannot be loaded. It carries every problem found, not just the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
