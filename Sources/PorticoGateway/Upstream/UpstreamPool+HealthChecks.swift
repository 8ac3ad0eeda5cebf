import AsyncHTTPClient
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import PorticoConfig

extension UpstreamPool {
    /// Re-resolves the DNS targets on their interval until the pool closes or the task is cancelled.
    /// A failed lookup keeps the targets the last good one gave.
    func runDNSRefresh(logger: Logger) async {
        guard let dns = config.dns else { return }
        while !Task.isCancelled, !isClosed {
            try? await Task.sleep(for: dns.interval.duration)
            do {
                let addresses = try await NIOThreadPool.singleton.runIfActive {
                    try DNSResolver.resolve(dns.name, family: dns.family)
                }
                if updateDNSTargets(addresses) {
                    logger.info(
                        "dns targets changed",
                        metadata: [
                            "upstream.name": "\(config.name)", "dns.addresses": "\(addresses.joined(separator: ", "))",
                        ])
                }
            } catch {
                logger.warning(
                    "dns lookup failed; keeping the previous targets",
                    metadata: ["upstream.name": "\(config.name)", "dns.name": "\(dns.name)", "error": "\(error)"])
            }
        }
    }

    /// Probes every target on the configured interval until the pool closes or the task is cancelled.
    func runHealthChecks(logger: Logger) async {
        guard let settings = config.activeHealth else { return }
        while !Task.isCancelled, !isClosed {
            await withTaskGroup(of: Void.self) { group in
                for target in targets {
                    group.addTask { await self.probe(target, settings: settings, logger: logger) }
                }
            }
            try? await Task.sleep(for: settings.interval.duration)
        }
    }

    private func probe(_ target: UpstreamTarget, settings: ActiveHealthConfig, logger: Logger) async {
        var passed = false
        do {
            let status = try await probeStatus(target, settings: settings)
            passed = settings.statuses.isEmpty ? (200..<400).contains(status) : settings.statuses.contains(status)
        } catch {
            passed = false
        }
        guard !isClosed, let healthy = target.recordProbe(passed: passed) else { return }
        let metadata: Logger.Metadata = [
            "upstream.name": "\(config.name)", "upstream.target": "\(target.config.origin)",
        ]
        if healthy {
            logger.info("target healthy again", metadata: metadata)
        } else {
            logger.warning("target unhealthy; no longer sent traffic", metadata: metadata)
        }
    }

    /// The status a probe of `target` got, in the protocol its traffic uses: a `protocol: h2`
    /// target may speak nothing else (h2c), so it is asked on a stream of its HTTP/2 connection.
    private func probeStatus(_ target: UpstreamTarget, settings: ActiveHealthConfig) async throws -> Int {
        let path = target.config.basePath + settings.path
        let timeout = TimeAmount.milliseconds(settings.timeout.milliseconds)
        if config.protocol == .h2, servesEventLoopPath, let loopPool = connections.anyPool() {
            let authority = target.config.hostHeader ?? "\(serverName ?? target.config.host):\(target.config.port)"
            let head = HTTPRequest(method: .get, scheme: target.config.scheme, authority: authority, path: path)
            let call = H2StreamedCall(loop: loopPool.eventLoop)
            let response = try await call.send(
                head, body: nil, ends: true, target: target, pool: loopPool, timeout: timeout)
            _ = try? await UpstreamAnswer.stream(response, call).collect(upTo: 64 * 1024)
            return response.status.code
        }
        let response = try await client.execute(
            HTTPClientRequest(url: origin(of: target.config) + path), timeout: timeout)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}
