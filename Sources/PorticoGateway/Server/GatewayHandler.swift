import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PorticoConfig
import PorticoStore

/// Handles one data-plane request: snapshot, request id, route match, chain, write, log.
struct GatewayHandler: Sendable {
    let runtime: GatewayRuntime
    let sinks: [any CallRecordSink]
    let metrics: GatewayMetrics?
    let logger: Logger
    let requestIDs = RequestIDGenerator()

    func respond(to request: Request, writer: consuming ResponseWriter, channel: any Channel) async throws {
        let start = ContinuousClock.now
        let time = Date()
        let snapshot = runtime.snapshot
        if snapshot.config.server.healthEndpoints, var health = await health(request, snapshot: snapshot) {
            // Probes are answered before anything else and are not logged: they would flood the call log.
            if request.method == .head { health = health.createHeadResponse() }
            try await writer.write(response: health.head, body: health.body)
            return
        }
        snapshot.inFlight.add(1, ordering: .relaxed)
        defer { snapshot.inFlight.subtract(1, ordering: .releasing) }
        let header = snapshot.requestIDHeader
        let requestID =
            request.headers[header].flatMap { RequestIDGenerator.isValid($0) ? $0 : nil } ?? requestIDs.next()
        let method = request.method.rawValue
        let clientAddress = channel.remoteAddress?.ipAddress
        let trace = TraceContext(headers: request.headers)

        let served = await snapshot.respond(
            to: request, requestID: requestID, trace: trace, clientAddress: clientAddress, start: start, logger: logger)
        let exchange = served.exchange
        let failure = served.failure
        var response = served.response
        if failure != nil, let length = response.body.contentLength {
            exchange?.bytesOut.add(length, ordering: .relaxed)
        }
        if let failure, GRPCStatus.isGRPC(request.headers) {
            // A gRPC client reads the gateway's refusal from trailers, not from problem+json.
            let (head, trailers) = GRPCStatus.answer(
                to: HTTPResponse(status: response.status, headerFields: response.headers), detail: failure.detail)
            response = Response(
                status: head.status, headers: head.headerFields,
                body: ResponseBody { writer in try await writer.finish(trailers) })
        }
        if request.method == .head { response = response.createHeadResponse() }
        if snapshot.config.server.serverTiming {
            var timing = "total;dur=\(Self.rounded((ContinuousClock.now - start).milliseconds))"
            if let upstream = exchange?.upstreamElapsed {
                timing += ", upstream;dur=\(Self.rounded(upstream.milliseconds))"
            }
            response.headers.append(HTTPField(name: Self.serverTiming, value: timing))
        }

        var abort: (any Error)?
        do {
            try await writer.write(response: response.head, body: response.body)
        } catch {
            abort = error
        }
        exchange?.finish()

        log(
            time: time, requestID: requestID, method: method, path: served.path, exchange: exchange,
            status: Int(response.status.code),
            failure: failure, failureLength: response.body.contentLength, start: start, clientAddress: clientAddress,
            traceID: trace.traceID, aborted: abort != nil, protocolVersion: Self.protocolVersion(of: channel))
        if let abort { throw abort }
    }

    /// Writes the call record to every sink and the metrics: after the response, on both paths.
    func log(
        time: Date, requestID: String, method: String, path: String, exchange: Exchange?, status: Int,
        failure: GatewayError?,
        failureLength: Int?, start: ContinuousClock.Instant, clientAddress: String?, traceID: String?, aborted: Bool,
        protocolVersion: String
    ) {
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
            status: status,
            bytesIn: exchange?.bytesIn.load(ordering: .relaxed) ?? 0,
            bytesOut: exchange?.bytesOut.load(ordering: .relaxed) ?? (failure == nil ? 0 : failureLength ?? 0),
            totalMilliseconds: (ContinuousClock.now - start).milliseconds,
            upstreamMilliseconds: exchange?.upstreamElapsed?.milliseconds,
            target: exchange?.upstreamTarget,
            clientAddress: clientAddress,
            error: failure?.slug,
            retries: exchange?.retries.load(ordering: .relaxed) ?? 0
        )
        record.keyPrefix = identity?.keyPrefix
        // Formatted here, after the response is written, not on the way to it.
        record.rateLimit = exchange?.rateLimit.map {
            $0.allowed ? "allowed \($0.policy) r=\($0.remaining)" : "refused \($0.policy)"
        }
        record.cache = exchange?.cacheStatus?.outcome.rawValue
        record.traceID = traceID
        record.protocolVersion = protocolVersion
        if let issues = exchange?.validationIssues, !issues.isEmpty {
            record.validation = CallRecord.bounded(
                issues.joined(separator: "; "), to: CallRecord.maximumValidationBytes)
        }
        if let backends = exchange?.backendCalls, !backends.isEmpty { record.backends = backends }
        if aborted { record.error = record.error ?? "aborted" }
        let (sinks, metrics, authFailure) = (self.sinks, self.metrics, exchange?.authFailure)
        let write: @Sendable (CallRecord) -> Void = { record in
            for sink in sinks { sink.record(record) }
            metrics?.observe(record, authFailure: authFailure)
        }
        guard let mirror = exchange?.mirror else { return write(record) }
        // The record waits for the mirrored copy (bounded by the mirror upstream's timeouts).
        let finished = record
        mirror.whenDone { outcome in
            var record = finished
            record.mirror = outcome
            write(record)
        }
    }

    static let serverTiming = HTTPField.Name("Server-Timing")!

    /// `2` for a request on an HTTP/2 stream, `1.1` otherwise. A stream's channel is a child of
    /// its connection's, which is a child of the listener's; an HTTP/1.1 connection's channel is
    /// the listener's child.
    static func protocolVersion(of channel: any Channel) -> String {
        channel.parent?.parent == nil ? "1.1" : "2"
    }

    static func rounded(_ milliseconds: Double) -> Double { (milliseconds * 10).rounded() / 10 }

    /// `GET /healthz` (the process answers) and `GET /readyz` (see `Readiness`); nil for any other request.
    private func health(_ request: Request, snapshot: RuntimeSnapshot) async -> Response? {
        guard request.method == .get || request.method == .head else { return nil }
        let path = request.uri.path
        guard path == "/healthz" || path == "/readyz" else { return nil }
        if path == "/healthz" { return Response.json("{\"status\":\"ok\"}", status: .ok) }
        let config =
            "{\"hash\":\(JSONText.quote(snapshot.config.contentHash)),\"loaded_at\":\(JSONText.quote(CallRecord.timestamp(snapshot.loadedAt)))}"
        let (ready, json) = await runtime.readiness.report(config: config)
        return Response.json(json, status: ready ? .ok : .serviceUnavailable)
    }
}
