import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoTesting
import Synchronization
import Testing

/// Server-sent events through the gateway: each event reaches the client as the upstream writes
/// it, on a plain route and on one with a cache and compression (neither may hold an event back).
@Suite("Server-sent events")
struct EventStreamTests {
    final class Times: Sendable {
        let sent = Mutex<[Int: ContinuousClock.Instant]>([:])
        /// The events the client has read, by id, for the stream being read.
        let received = Mutex<Set<Int>>([])
        /// Events the upstream wrote while the previous one had not reached the client.
        let heldBack = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
    }

    static func router(_ times: Times) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/events") { _, _ -> Response in
            times.requests.add(1, ordering: .relaxed)
            return Response(
                status: .ok,
                // A lifetime that would tempt a cache.
                headers: [.contentType: "text/event-stream", .cacheControl: "max-age=60"],
                body: ResponseBody { writer in
                    for id in 0..<5 {
                        times.sent.withLock { $0[id] = .now }
                        try await writer.write(ByteBuffer(string: "id: \(id)\ndata: {\"n\":\(id)}\n\n"))
                        // The next event is written only once the client has read this one (or
                        // 5 s have passed, which counts as held back): a gateway that buffers
                        // the stream cannot pass, however loaded the machine.
                        let deadline = ContinuousClock.now + .seconds(5)
                        while !times.received.withLock({ $0.contains(id) }) {
                            guard ContinuousClock.now < deadline else {
                                times.heldBack.add(1, ordering: .relaxed)
                                break
                            }
                            try await Task.sleep(for: .milliseconds(2))
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await writer.finish(nil)
                })
        }
        return router
    }

    /// Each event's delay from the upstream's write to the client's read.
    static func delays(_ client: HTTPClient, url: String, times: Times) async throws -> [Duration] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        let response = try await client.execute(request, timeout: .seconds(30))
        #expect(response.headers["Content-Encoding"].isEmpty)
        var delays: [Duration] = []
        var text = ""
        for try await chunk in response.body {
            let now = ContinuousClock.now
            text += String(buffer: chunk)
            while let end = text.range(of: "\n\n") {
                let event = text[..<end.lowerBound]
                text = String(text[end.upperBound...])
                if let line = event.split(separator: "\n").first(where: { $0.hasPrefix("id: ") }),
                    let id = Int(line.dropFirst(4)),
                    let sent = times.sent.withLock({ $0[id] })
                {
                    delays.append(now - sent)
                    times.received.withLock { _ = $0.insert(id) }
                }
            }
        }
        return delays
    }

    @Test(
        "every event reaches the client before the next one is written, on a plain route and on a cached, compressed one"
    )
    func eventsFlowAtOnce() async throws {
        let times = Times()
        try await withServer(Self.router(times)) { upstream in
            let yaml = """
                \(upstreamYAML(port: upstream))
                apis:
                  - {name: live, base-path: /live, upstream: backend}
                  - {name: cached, base-path: /cached, upstream: backend, cache: true, compress: {min-size: 1}}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    for path in ["/live/events", "/cached/events", "/cached/events"] {
                        times.received.withLock { $0 = [] }
                        let delays = try await Self.delays(client.client, url: gateway.baseURL + path, times: times)
                        #expect(delays.count == 5, "\(path): \(delays)")
                        #expect(times.heldBack.load(ordering: .relaxed) == 0, "\(path): \(delays)")
                        print(
                            "event delays through \(path): \(delays.map { String(format: "%.2f ms", Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000) })"
                        )
                    }
                    // The cached route did not keep the stream: both requests reached the upstream.
                    #expect(times.requests.load(ordering: .relaxed) == 3)
                }
            }
        }
    }
}
