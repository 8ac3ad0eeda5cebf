import HTTPTypes
import Hummingbird

extension Response {
    /// A JSON answer that no cache keeps (`Cache-Control: no-store`): health, admin and portal
    /// answers describe the moment they are asked. `extra` adds fields such as `Set-Cookie`.
    package static func json(
        _ text: String, status: HTTPResponse.Status = .ok, adding extra: HTTPFields = [:]
    ) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
