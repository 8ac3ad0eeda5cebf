/// Collects the problems of one load so that a single `validate` run reports all of them.
final class DiagnosticSink {
    private(set) var diagnostics: [ConfigDiagnostic] = []

    func report(_ message: String, file: String, line: Int, column: Int) {
        diagnostics.append(ConfigDiagnostic(file: file, line: line, column: column, message: message))
    }

    func append(_ more: [ConfigDiagnostic]) {
        diagnostics.append(contentsOf: more)
    }

    var isEmpty: Bool { diagnostics.isEmpty }
}
