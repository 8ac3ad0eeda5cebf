internal import Foundation
import PorticoConfig

/// The JSON bodies the portal's account endpoints read, reachable from `portico-bench fuzz json`
/// (`bench/fuzz.sh`): decoded into the generated types as the portal's server decodes them, then
/// checked as the operations check them.
package enum PortalFuzzEntry {
    /// A JSON body: as a sign-in, a new app and a key rotation.
    package static func jsonBody(_ bytes: [UInt8]) {
        let decoder = JSONDecoder()
        let data = Data(bytes)
        if let body = try? decoder.decode(Components.Schemas.SignIn.self, from: data) {
            _ = try? PortalAccounts.email(body.email)
        }
        if let body = try? decoder.decode(Components.Schemas.NewApp.self, from: data) {
            _ = body.name.trimmingCharacters(in: .whitespacesAndNewlines).count <= 80
            _ = (body.description ?? "").count <= 1000
        }
        if let body = try? decoder.decode(Components.Schemas.Rotation.self, from: data), let grace = body.grace {
            _ = ConfigDuration(parsing: grace).map { Date().addingTimeInterval($0.seconds) }
        }
    }
}
