import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A real HTTP upstream for tests, on 127.0.0.1 and a free port.
///
/// - `/echo/...`: answers JSON with the method, the path and query as received, the headers in
///   order (repeats kept) and the body.
/// - `/download/{bytes}`: streams that many bytes in 64 KiB chunks (`HEAD`: says that length).
/// - `/upload`: reads the body as a stream and answers `{"bytes": N}`.
/// - `/slow/{milliseconds}`: waits, then answers `slow`.
/// - `/hop`: answers with hop-by-hop headers that a proxy must remove.
/// - `/respond?Name=value&…`: answers 200 `ok` with each query parameter as a response header,
///   for tests of what a misbehaving upstream sends (`Cache-Control: max-age=99999999999999999999`).
package enum TestUpstream {
    /// The upstream's routes.
    package static func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.on("/echo/**", method: .get, use: echo)
        for method in [HTTPRequest.Method.post, .put, .delete, .patch, .options] {
            router.on("/echo/**", method: method, use: echo)
        }
        router.get("/download/{bytes}") { _, context -> Response in
            let total = context.parameters.get("bytes", as: Int.self) ?? 0
            return Response(
                status: .ok,
                headers: [.contentType: "application/octet-stream"],
                body: ResponseBody(contentLength: total) { writer in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                    var remaining = total
                    while remaining > 0 {
                        let size = min(remaining, chunk.readableBytes)
                        try await writer.write(chunk.getSlice(at: 0, length: size)!)
                        remaining -= size
                    }
                    try await writer.finish(nil)
                }
            )
        }
        // HEAD of a download: its length, no body.
        router.on("/download/{bytes}", method: .head) { _, context -> Response in
            let total = context.parameters.get("bytes", as: Int.self) ?? 0
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: String(total)])
        }
        // A body of unknown length: `parts` lines, each its own write.
        router.get("/stream/{parts}") { _, context -> Response in
            let parts = min(context.parameters.get("parts", as: Int.self) ?? 0, 10_000)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain"],
                body: ResponseBody { writer in
                    for index in 0..<parts { try await writer.write(ByteBuffer(string: "part-\(index)\n")) }
                    try await writer.finish(nil)
                }
            )
        }
        router.post("/upload") { request, _ -> Response in
            var total = 0
            for try await chunk in request.body { total += chunk.readableBytes }
            return json("{\"bytes\":\(total)}")
        }
        router.get("/slow/{milliseconds}") { _, context -> Response in
            let delay = context.parameters.get("milliseconds", as: Int.self) ?? 0
            try await Task.sleep(for: .milliseconds(delay))
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "slow")))
        }
        router.get("/hop") { _, _ -> Response in
            var headers: HTTPFields = [.contentType: "text/plain"]
            headers[.connection] = "X-Upstream-Private"
            headers[HTTPField.Name("X-Upstream-Private")!] = "secret"
            headers[HTTPField.Name("Keep-Alive")!] = "timeout=5"
            headers[HTTPField.Name("X-Upstream-Public")!] = "visible"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "hop")))
        }
        router.get("/respond") { request, _ -> Response in
            var headers: HTTPFields = [.contentType: "text/plain"]
            for (name, value) in request.uri.queryParameters {
                if let field = HTTPField.Name(String(name)) {
                    headers.append(HTTPField(name: field, value: String(value)))
                }
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        return router
    }

    /// The upstream as a service; `port` receives the bound port.
    package static func application(port: BoundPort, logger: Logger = Logger(label: "test.upstream")) -> some Service {
        Application(
            router: router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    @Sendable static func echo(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var text = "{\"method\":\(quote(request.method.rawValue)),\"uri\":\(quote(request.head.path ?? ""))"
        text += ",\"authority\":\(quote(request.head.authority ?? ""))"
        text +=
            ",\"headers\":["
            + request.headers.map { "[\(quote($0.name.rawName)),\(quote($0.value))]" }.joined(separator: ",")
        text += "],\"body\":\(quote(String(buffer: body)))}"
        return json(text)
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func quote(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
