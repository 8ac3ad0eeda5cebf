import HTTPTypes
import Hummingbird
import HummingbirdCore
import PorticoConfig

/// Reads the API version a request asks for, the way a route's versioning says.
enum RequestedVersion {
    static func of(_ request: Request, for route: CompiledRoute) -> String? {
        of(request.head, for: route)
    }

    static func of(_ head: HTTPRequest, for route: CompiledRoute) -> String? {
        let versioning = route.versioning
        switch versioning.by {
        case .path:
            return nil
        case .header:
            return HTTPField.Name(versioning.parameter).flatMap { head.headerFields[$0] }.map(trimmed)
        case .query:
            return URI(head.path ?? "/").queryParameters.get(versioning.parameter).map(trimmed)
        case .mediaType:
            let vendor = "vnd." + (versioning.name ?? route.apiName).lowercased() + "."
            for value in head.headerFields[values: .accept] {
                for range in value.split(separator: ",") {
                    let mediaType = range.split(separator: ";")[0].drop { $0 == " " }.lowercased()
                    guard let slash = mediaType.firstIndex(of: "/") else { continue }
                    let subtype = mediaType[mediaType.index(after: slash)...]
                    guard subtype.hasPrefix(vendor) else { continue }
                    let rest = subtype.dropFirst(vendor.count)
                    let version = rest.prefix { $0 != "+" }
                    if !version.isEmpty { return String(version) }
                }
            }
            return nil
        }
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
