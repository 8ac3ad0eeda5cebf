import AsyncHTTPClient
import Foundation
import PorticoTesting
import Testing

/// The portal's pages come with the binary; `portal.files` replaces them with a folder's.
@Suite("Portal pages")
struct PortalPagesTests {
    @Test("without portal.files the built-in pages are served, with ETags that revalidate to 304")
    func builtIn() async throws {
        try await GatewayHarness.with(yaml: "portal: {path: /portal, title: Built In}\n") { gateway in
            let client = TestClient(client: .shared, baseURL: gateway.baseURL)
            let page = try await client.send(.GET, "/portal/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"].first == "text/html; charset=utf-8")
            #expect(page.headers["content-security-policy"].first?.contains("script-src 'self'") == true)
            #expect(page.text.contains("portal.js"))
            for (name, type) in [
                ("portal.js", "text/javascript"), ("account.js", "text/javascript"), ("portal.css", "text/css"),
            ] {
                let file = try await client.send(.GET, "/portal/" + name)
                #expect(file.status == 200, "\(name)")
                #expect(file.headers["content-type"].first?.hasPrefix(type) == true, "\(name)")
                #expect(file.body.readableBytes > 500, "\(name)")
            }
            let etag = try #require(page.headers["etag"].first)
            let again = try await client.send(.GET, "/portal/", headers: [("If-None-Match", etag)])
            #expect(again.status == 304)
            #expect(try await client.send(.GET, "/portal/missing.js").status == 404)
        }
    }

    @Test("portal.files serves a customised copy instead, and only its files")
    func override() async throws {
        let yaml = "portal: {path: /portal, files: custom}\n"
        try await GatewayHarness.with(yaml: yaml, files: ["custom/index.html": "<html>our own portal</html>"]) {
            gateway in
            let client = TestClient(client: .shared, baseURL: gateway.baseURL)
            let page = try await client.send(.GET, "/portal/")
            #expect(page.status == 200)
            #expect(page.text == "<html>our own portal</html>")
            #expect(try await client.send(.GET, "/portal/portal.js").status == 404)
        }
    }
}
