import HummingbirdCore
import Testing

@testable import PorticoGateway

/// Reading and removing a credential from the query, against Hummingbird's own reading of it.
@Suite("Query-parameter credentials")
struct QueryParameterTests {
    static let paths = [
        "/a", "/a?", "/a?api_key=k1", "/a?x=1&api_key=k2&y=2", "/a?api_key", "/a?api_key=", "/a?api_key=a%2Bb%20c",
        "/a?api_key=bad%zz", "/a?api_key=%", "/a?api_key=%ff", "/a?&&api_key=k3&&", "/a?api_key=first&api_key=second",
        "/a?api%5Fkey=encoded-name", "/a?x=api_key&api_keyx=no", "/a?api_key=k=with=equals", "/a?ünï=1&api_key=ü%C3%A9",
    ]

    @Test("the value read is the one Hummingbird's queryParameters reads")
    func readsAsHummingbird() {
        for path in Self.paths {
            let expected = URI(path).queryParameters["api_key"].map(String.init)
            #expect(QueryParameter.value(of: "api_key", in: path) == expected, "\(path)")
        }
    }

    @Test("removing takes out every parameter of that name and keeps the rest as sent")
    func removes() {
        #expect(QueryParameter.removing("api_key", from: "/a") == "/a")
        #expect(QueryParameter.removing("api_key", from: "/a?api_key=k1") == "/a")
        #expect(QueryParameter.removing("api_key", from: "/a?x=1&api_key=k2&y=%20") == "/a?x=1&y=%20")
        #expect(QueryParameter.removing("api_key", from: "/a?api_key=1&api_key=2&z") == "/a?z")
        #expect(QueryParameter.removing("api_key", from: "/a?api_key&&q=api_key") == "/a?q=api_key")
        #expect(QueryParameter.removing("api_key", from: "/a?api_keyx=1") == "/a?api_keyx=1")
        for path in Self.paths {
            #expect(
                QueryParameter.value(of: "api_key", in: QueryParameter.removing("api_key", from: path)) == nil,
                "\(path)")
        }
    }
}
