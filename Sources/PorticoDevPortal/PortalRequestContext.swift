import HTTPTypes
import Hummingbird
import Logging
import PorticoGateway
import PorticoOpenAPIServer

/// The context of a request to the portal's JSON API, as the data plane hands it over: the id the
/// gateway gave the request and its header, the caller's address (as the trusted proxies say)
/// and the snapshot serving it.
struct PortalRequestContext: ProblemContext {
    struct Source: RequestContextSource {
        let logger: Logger
        let requestID: String
        let requestIDHeader: HTTPField.Name
        let clientAddress: String?
        let snapshot: RuntimeSnapshot
    }

    var coreContext: CoreRequestContextStorage
    let requestID: String
    let requestIDHeader: HTTPField.Name
    let clientAddress: String?
    let snapshot: RuntimeSnapshot

    init(source: Source) {
        coreContext = .init(source: source)
        requestID = source.requestID
        requestIDHeader = source.requestIDHeader
        clientAddress = source.clientAddress
        snapshot = source.snapshot
    }
}
