internal import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoGateway
import PorticoStore

/// The compiled route table of `GET /admin/routes`.
extension AdminAPI {
    static func routes(of snapshot: RuntimeSnapshot) -> String {
        let items = snapshot.routeList.map { route -> String in
            var json =
                "{\"api\":\(JSONText.quote(route.apiName)),\"version\":"
                + (route.apiVersion.map(JSONText.quote) ?? "null")
            json += ",\"name\":\(JSONText.quote(route.name)),\"path\":\(JSONText.quote(route.template))"
            json += ",\"methods\":[" + route.methods.sorted().map(JSONText.quote).joined(separator: ",") + "]"
            json += ",\"host\":" + (route.host.map(JSONText.quote) ?? "null")
            json += ",\"upstream\":\(JSONText.quote(route.upstream))"
            json += ",\"policies\":[" + route.policyNames.map(JSONText.quote).joined(separator: ",") + "]}"
            return json
        }
        return "{\"routes\":[" + items.joined(separator: ",") + "]}"
    }
}
