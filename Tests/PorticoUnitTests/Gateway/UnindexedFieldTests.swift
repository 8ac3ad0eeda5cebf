import HTTPTypes
import Testing

@testable import PorticoGateway

/// The request id is a field HTTP/2's header compression must not index: it is new in every
/// message (RFC 7541 §7.1).
@Suite("Unindexed fields")
struct UnindexedFieldTests {
    let name = HTTPField.Name("X-Request-Id")!

    @Test("setUnindexed replaces every value of the name with one the encoder is to avoid indexing")
    func replaces() {
        var fields: HTTPFields = [.contentType: "text/plain"]
        fields.append(HTTPField(name: name, value: "from-the-client"))
        fields.append(HTTPField(name: name, value: "and-another"))
        fields.setUnindexed(name, "abc123")
        #expect(fields[fields: name].map(\.value) == ["abc123"])
        #expect(fields[fields: name].map(\.indexingStrategy) == [.avoid])
        #expect(fields[fields: .contentType].map(\.indexingStrategy) == [.automatic])
    }

    @Test("the gateway's own problem answers carry the request id unindexed")
    func problems() {
        let (head, _) = GatewayError.notFound("no route").problem(
            requestID: "abc123", instance: "/x", requestIDHeader: name)
        #expect(head.headerFields[fields: name].map(\.value) == ["abc123"])
        #expect(head.headerFields[fields: name].map(\.indexingStrategy) == [.avoid])
    }
}
