/// One problem found in a config file, pinned to where it was found.
package struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in, as the operator named it (or resolved against the config folder).
    package var file: String
    /// 1-based line; 0 when the problem has no position (a missing file, say).
    package var line: Int
    /// 1-based column; 0 when unknown.
    package var column: Int
    /// What is wrong, in words an operator can act on.
    package var message: String

    package init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form compilers use so editors can jump to it.
    package var description: String { "\(file):\(line):\(column): \(message)" }
}

/// A config that cannot be loaded. It carries every problem found, not just the first.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package var diagnostics: [ConfigDiagnostic]

    package init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    package var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
