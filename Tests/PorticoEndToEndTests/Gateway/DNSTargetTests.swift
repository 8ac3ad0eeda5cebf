import Foundation
import NIOPosix
import PorticoConfig
import PorticoTesting
import Testing

@testable import PorticoGateway

@Suite("Targets from DNS")
struct DNSTargetTests {
    @Test("the system resolver gives a name's addresses, by family")
    func resolve() throws {
        #expect(try DNSResolver.resolve("localhost", family: .ipv4) == ["127.0.0.1"])
        #expect(try DNSResolver.resolve("127.0.0.1", family: .any) == ["127.0.0.1"])
        #expect(throws: DNSResolver.Failure.self) { try DNSResolver.resolve("no-such-host.invalid", family: .any) }
    }

    @Test("a new record list keeps the targets that stay, with their state")
    func update() async throws {
        var config = UpstreamConfig(name: "svc", targets: [TargetConfig(url: "http://127.0.0.1:9")!])
        config.dns = DNSTargetsConfig(name: "localhost", port: 8081)
        config.dns?.family = .ipv4
        let pool = UpstreamPool(config: config, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        #expect(pool.targets.map { $0.config.origin } == ["http://127.0.0.1:9", "http://127.0.0.1:8081"])
        #expect(pool.targets[1].config.hostHeader == "localhost:8081")
        let kept = pool.targets[1]
        kept.setDrained(true)
        #expect(!pool.updateDNSTargets(["127.0.0.1"]))
        #expect(pool.updateDNSTargets(["127.0.0.1", "127.0.0.2"]))
        #expect(pool.targets.count == 3)
        #expect(pool.targets[1] === kept && pool.targets[1].isDrained)
        #expect(pool.updateDNSTargets(["127.0.0.2"]))
        #expect(pool.targets.map { $0.config.host } == ["127.0.0.1", "127.0.0.2"])
        await pool.shutdown()
    }

    @Test("requests reach a target found through DNS, which sends the DNS name as Host")
    func endToEnd() async throws {
        try await withUpstream { upstreamPort in
            let yaml = """
                admin: {listen: "127.0.0.1:0", token: test-admin-token-0123456789abcdef}
                server: {access-log: false, watch-config: false}
                upstreams:
                  svc:
                    dns: {name: localhost, port: \(upstreamPort), family: ipv4, interval: 1s}
                apis:
                  - {name: svc, base-path: /svc, upstream: svc}
                """
            try await GatewayHarness.with(yaml: yaml) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let answer = try await client.send(.GET, "/svc/echo/dns")
                    #expect(answer.status == 200)
                    #expect(try answer.json()["authority"] as? String == "localhost:\(upstreamPort)")
                    let targets = try await adminTargets(client, adminPort: gateway.adminPort!)
                    #expect(targets.map { $0["url"] as? String } == ["http://127.0.0.1:\(upstreamPort)"])
                }
            }
        }
    }
}
