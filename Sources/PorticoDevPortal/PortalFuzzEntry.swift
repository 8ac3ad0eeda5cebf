import Foundation
import PorticoConfig

/// The JSON bodies the portal's account endpoints read, reachable from `portico-bench fuzz json`
/// (`bench/fuzz.sh`): parsed as they are on the request path, then their known fields.
public enum PortalFuzzEntry {
    /// A JSON body: parsed, then the fields a sign-up, a key or an app reads.
    public static func jsonBody(_ bytes: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return }
        _ = try? PortalAccounts.credentials(object)
        if let grace = object["grace"] as? String, let duration = ConfigDuration(parsing: grace) {
            _ = Date().addingTimeInterval(duration.seconds)
        }
        if let expires = object["expires"] as? String {
            _ = ConfigDuration(parsing: expires).map { Date().addingTimeInterval($0.seconds) }
        }
        if let name = object["name"] as? String { _ = ConsumerConfig.isValidName(name) }
        if let description = object["description"] as? String { _ = description.count <= 1000 }
    }
}
