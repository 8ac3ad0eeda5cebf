/// Collects the problems of one load so that a single `validate` run reports all of them.
final class DiagnosticSink {
    private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Things worth knowing that do not stop the config from loading.
    private(set) var warnings: [ConfigDiagnostic] = []

    func report(_ message: String, file: String, line: Int, column: Int) {
        diagnostics.append(ConfigDiagnostic(file: file, line: line, column: column, message: message))
    }

    func warn(_ message: String, file: String, line: Int, column: Int) {
        warnings.append(ConfigDiagnostic(file: file, line: line, column: column, message: message))
    }

    func appendWarnings(_ more: [ConfigDiagnostic]) {
        warnings.append(contentsOf: more)
    }

    func append(_ more: [ConfigDiagnostic]) {
        diagnostics.append(contentsOf: more)
    }

    var isEmpty: Bool { diagnostics.isEmpty }
}
