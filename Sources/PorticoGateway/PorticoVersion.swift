/// The version `portico --version` and `/admin/status` report.
public enum PorticoVersion {
    public static let current = "0.1.0"
}
