import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for tests: sends one request and collects the answer.
package struct TestClient: Sendable {
    package let client: HTTPClient
    package let baseURL: String

    package init(client: HTTPClient, baseURL: String) {
        self.client = client
        self.baseURL = baseURL
    }

    /// An answer with its body collected.
    package struct Answer: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: ByteBuffer

        package var text: String { String(buffer: body) }

        /// The body parsed as a JSON object.
        package func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
                throw TestingError("body is not a JSON object: \(text)")
            }
            return object
        }
    }

    package func send(
        _ method: HTTPMethod = .GET,
        _ path: String,
        headers: [(String, String)] = [],
        body: HTTPClientRequest.Body? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = body }
        let response = try await client.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: collected)
    }
}
