import PorticoConfig

/// A reload the config refused; answered 422 with every problem listed, the old config serving.
struct ReloadRejected: Error {
    let message: String
    let diagnostics: [ConfigDiagnostic]
}
