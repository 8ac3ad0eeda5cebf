import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import Synchronization

/// Copies a share of a route's requests to a second upstream (shadow traffic) and drops its
/// answers. The copy runs in the background, after the request's policies (it is the request the
/// real upstream gets), through the mirror upstream's own pool, health, breaker and timeouts; it
/// never delays or fails the real request. At most `maximumInFlight` copies run at once; bodies
/// above 64 KiB, or of unknown length, are not copied. The call record of the real request says
/// how the copy went (`mirror`), once it has.
struct MirrorPolicy: Policy {
    let phase = PolicyPhase.request
    /// Last before the terminal stage: the copy is the request the upstream gets.
    let priority = 10
    let share: Double
    let upstream: String
    let chain: PolicyChain
    let background: CacheRefresher
    let budget: Budget

    static let maximumInFlight = 256

    final class Budget: Sendable {
        let inFlight = Atomic<Int>(0)
    }

    init(config: MirrorConfig, stage: any Policy, background: CacheRefresher, budget: Budget) {
        self.share = config.share
        self.upstream = config.upstream
        self.chain = PolicyChain(policies: [], terminal: stage)
        self.background = background
        self.budget = budget
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        guard share > 0, share >= 1 || Double.random(in: 0..<1) < share else {
            return try await next(request, exchange: exchange)
        }
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if (length == nil && request.headers[.transferEncoding] != nil) || (length ?? 0) > ProxyStage.smallBodyLimit {
            exchange.mirror = MirrorOutcome(done: "skipped body")
            return try await next(request, exchange: exchange)
        }
        var body = ByteBuffer()
        var sent = request
        if (length ?? 0) > 0 {
            do {
                body = try await request.body.collect(upTo: ProxyStage.smallBodyLimit)
            } catch {
                throw ProxyStage.clientBodyError(error)
            }
            sent = Request(head: request.head, body: RequestBody(buffer: body))
        }
        guard budget.inFlight.wrappingAdd(1, ordering: .relaxed).oldValue < Self.maximumInFlight else {
            budget.inFlight.subtract(1, ordering: .relaxed)
            exchange.mirror = MirrorOutcome(done: "skipped busy")
            return try await next(sent, exchange: exchange)
        }
        let outcome = MirrorOutcome()
        exchange.mirror = outcome
        let copy = Exchange(
            requestID: exchange.requestID, trace: exchange.trace, clientAddress: exchange.clientAddress,
            host: exchange.host, start: .now,
            route: exchange.route, request: exchange.request)
        copy.identity = exchange.identity
        let head = request.head
        let (chain, budget, copied) = (self.chain, self.budget, body)
        let submitted = background.submit {
            defer { budget.inFlight.subtract(1, ordering: .relaxed) }
            let start = ContinuousClock.now
            do {
                let response = try await chain.run(
                    Request(head: head, body: RequestBody(buffer: copied)), exchange: copy)
                try await response.body.write(DiscardingWriter())
                copy.finish()
                outcome.complete("\(response.status.code) \(Self.milliseconds(since: start))ms")
            } catch let error as GatewayError {
                copy.finish()
                outcome.complete("failed \(error.slug)")
            } catch {
                copy.finish()
                outcome.complete("failed aborted")
            }
        }
        if !submitted {
            budget.inFlight.subtract(1, ordering: .relaxed)
            outcome.complete("skipped busy")
        }
        return try await next(sent, exchange: exchange)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = (ContinuousClock.now - start).milliseconds
        return String((elapsed * 10).rounded() / 10)
    }
}

/// Reads a body and drops it.
struct DiscardingWriter: ResponseBodyWriter {
    mutating func write(_ buffer: ByteBuffer) async throws {}
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
