import PorticoOpenAPIServer

extension ServedDocument {
    /// `openapi.yaml`, the admin API's contract, as the binary carries it: served at
    /// `GET /admin/openapi.json` and checked against every request.
    static let admin = ServedDocument.embedded(PackageResources.openapi_yaml, name: "the admin API's openapi.yaml")
}
