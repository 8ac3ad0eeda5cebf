import PorticoOpenAPIServer

extension ServedDocument {
    /// `openapi.yaml`, the portal API's contract, as the binary carries it: served at
    /// `<portal.path>/api/openapi.json` and checked against every request.
    static let portal = ServedDocument.embedded(PackageResources.openapi_yaml, name: "the portal API's openapi.yaml")
}
