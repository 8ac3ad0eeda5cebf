import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig
import PorticoGateway

/// `GET /admin/limits?key=…`: where a key stands under every limit that has seen it.
extension AdminAPI {
    static func addLimits(to router: Router<BasicRequestContext>, runtime: GatewayRuntime) {
        router.get("/admin/limits") { request, context -> Response in
            guard let key = request.uri.queryParameters["key"].map(String.init), !key.isEmpty else {
                return problem(.badRequest("Name the key: ?key=demo-app (a consumer), ?key=127.0.0.1 (an IP), …"), request, context)
            }
            let states = try await runtime.snapshot.limitState(of: key)
            let items = states.map(\.json)
            return Response.json("{\"key\":\(JSONText.quote(key)),\"limits\":[" + items.joined(separator: ",") + "]}")
        }
    }
}
