/// A route's answer given by the gateway itself (`respond:`), for maintenance pages and stubs.
public struct StaticResponseConfig: Sendable, Hashable {
    public var status: Int
    public var headers: [HeaderPair]
    public var body: String
    public var contentType: String?

    public init(status: Int = 200, headers: [HeaderPair] = [], body: String = "", contentType: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.contentType = contentType
    }
}
