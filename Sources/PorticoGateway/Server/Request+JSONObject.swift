import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// The body as a JSON object, for the portal's and the admin API's POSTs: empty when there is
    /// no body; a 400 `GatewayError` when it is not a JSON object.
    public func jsonObject(upTo limit: Int = 64 * 1024) async throws -> [String: Any] {
        let bytes = try await body.collect(upTo: limit)
        guard bytes.readableBytes > 0 else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any] else {
            throw GatewayError.badRequest("The body must be a JSON object.")
        }
        return object
    }
}
