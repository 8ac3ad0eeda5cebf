import Foundation
import PorticoStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Handles one data-plane request: snapshot, request id, route match, chain, write, log.
struct GatewayHandler: Sendable {
    let runtime: GatewayRuntime
    let sinks: [any CallRecordSink]
    let logger: Logger
    let requestIDs = RequestIDGenerator()

    func respond(to request: Request, writer: consuming ResponseWriter, channel: any Channel) async throws {
        let start = ContinuousClock.now
        let time = Date()
        let snapshot = runtime.snapshot
        snapshot.inFlight.add(1, ordering: .relaxed)
        defer { snapshot.inFlight.subtract(1, ordering: .releasing) }
        let header = snapshot.requestIDHeader
        let requestID = request.headers[header].flatMap { RequestIDGenerator.isValid($0) ? $0 : nil } ?? requestIDs.next()
        let path = request.uri.path
        let method = request.method.rawValue
        let clientAddress = channel.remoteAddress?.ipAddress

        let served = await snapshot.respond(to: request, requestID: requestID, clientAddress: clientAddress, start: start, logger: logger)
        let exchange = served.exchange
        let failure = served.failure
        var response = served.response
        if failure != nil, let length = response.body.contentLength {
            exchange?.bytesOut.add(length, ordering: .relaxed)
        }
        if request.method == .head { response = response.createHeadResponse() }

        var abort: (any Error)?
        do {
            try await writer.write(response: response.head, body: response.body)
        } catch {
            abort = error
        }
        exchange?.finish()

        let identity = exchange?.identity
        var record = CallRecord(
            time: time,
            requestID: requestID,
            method: method,
            path: path,
            api: exchange?.route.apiName,
            version: exchange?.route.apiVersion,
            consumer: identity?.consumer,
            route: exchange?.route.name,
            status: Int(response.status.code),
            bytesIn: exchange?.bytesIn.load(ordering: .relaxed) ?? 0,
            bytesOut: exchange?.bytesOut.load(ordering: .relaxed) ?? (failure == nil ? 0 : response.body.contentLength ?? 0),
            totalMilliseconds: (ContinuousClock.now - start).milliseconds,
            upstreamMilliseconds: exchange?.upstreamElapsed?.milliseconds,
            target: exchange?.upstreamTarget,
            clientAddress: clientAddress,
            error: failure?.slug,
            retries: exchange?.retries.load(ordering: .relaxed) ?? 0
        )
        record.keyPrefix = identity?.keyPrefix
        // Formatted here, after the response is written, not on the way to it.
        record.rateLimit = exchange?.rateLimit.map { $0.allowed ? "allowed \($0.policy) r=\($0.remaining)" : "refused \($0.policy)" }
        record.cache = exchange?.cacheStatus?.outcome.rawValue
        if abort != nil { record.error = record.error ?? "aborted" }
        for sink in sinks { sink.record(record) }
        if let abort { throw abort }
    }
}
