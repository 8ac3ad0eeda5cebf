/// A route's answer given by the gateway itself (`respond:`), for maintenance pages and stubs.
package struct StaticResponseConfig: Sendable, Hashable {
    package var status: Int
    package var headers: [HeaderPair]
    package var body: String
    package var contentType: String?

    package init(status: Int = 200, headers: [HeaderPair] = [], body: String = "", contentType: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.contentType = contentType
    }
}
