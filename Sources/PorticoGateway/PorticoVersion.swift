/// The version `portico --version` and `/admin/status` report.
package enum PorticoVersion {
    package static let current = "0.1.0"
}
