import NIOCore
import NIOPosix
import PorticoConfig
import Testing

@testable import PorticoGateway

/// One event loop's pool against a real upstream: what happens to connections nobody used.
@Suite("Event-loop connection pools")
struct LoopConnectionPoolTests {
    static func acquire(_ pool: LoopConnectionPool, _ target: UpstreamTarget) async throws -> UpstreamConnection {
        try await withCheckedThrowingContinuation { continuation in
            pool.eventLoop.execute {
                pool.acquire(target) { result in continuation.resume(with: result) }
            }
        }
    }

    @Test("a connection handed over and never used goes back to the pool; a target left without connections is forgotten")
    func abandonedUnused() async throws {
        try await withUpstream { port in
            let upstream = UpstreamConfig(name: "svc", targets: [TargetConfig(url: "http://127.0.0.1:\(port)")!])
            let target = UpstreamTarget(config: upstream.targets[0], upstream: upstream)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            // One connection at most: a lost one would leave the next request waiting out the connect timeout.
            let pool = LoopConnectionPool(eventLoop: loop, limit: 1, config: upstream)
            let first = try await Self.acquire(pool, target)
            // As when the client of the request it was for went away while it was being connected.
            try await loop.submit { first.abandon() }.get()
            let second = try await Self.acquire(pool, target)
            #expect(second === first)
            #expect(try await loop.submit { pool.targetCount }.get() == 1)

            try await loop.submit { second.close() }.get()
            var forgotten = false
            for _ in 0..<200 where !forgotten {
                forgotten = try await loop.submit { pool.targetCount == 0 }.get()
                if !forgotten { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(forgotten)
            try await loop.submit { pool.shutdown() }.get()
        }
    }
}
