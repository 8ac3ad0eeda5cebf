import Foundation
import PorticoConfig

/// `Tests/Fixtures/validation/shop.yaml`, the OpenAPI document the validation tests share (each
/// parameter style and body type), and its operations' contracts as a config with
/// `validate: enforce` compiles them, by operation id.
package enum ShopFixture {
    package static let document = try! String(contentsOfFile: fixture("validation/shop.yaml"), encoding: .utf8)

    package static let contracts: [String: OperationContract] = {
        let yaml = """
            upstreams:
              svc: {targets: [{url: "http://127.0.0.1:9"}]}
            apis:
              - {name: shop, openapi: shop.yaml, upstream: svc, validate: enforce, validate-responses: report}
            """
        let config = try! loadConfig(yaml, files: ["shop.yaml": document])
        var contracts: [String: OperationContract] = [:]
        for route in config.apis[0].routes { contracts[route.name ?? ""] = route.contract }
        return contracts
    }()
}
