import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import PorticoConfig

/// The terminal stage: forwards the request to a target of the route's upstream and streams the
/// answer back. Bodies are never buffered; backpressure runs end to end through the async sequences.
struct ProxyStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let pool: UpstreamPool
    /// The public prefix removed from the path, if the API strips it.
    let strippedPrefix: String?
    /// Prepended after stripping: the OpenAPI `servers` path of the API.
    let upstreamBasePath: String
    let timeout: TimeAmount
    let requestIDHeader: HTTPField.Name

    static let via = "1.1 portico"

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let target = pool.nextTarget()
        var upstreamRequest = HTTPClientRequest(url: target.origin + upstreamPath(for: request, target: target))
        upstreamRequest.method = HTTPMethod(rawValue: request.method.rawValue)
        upstreamRequest.headers = forwardedHeaders(request, exchange: exchange, target: target)
        if let body = requestBody(request, exchange: exchange) { upstreamRequest.body = body }

        let sent = ContinuousClock.now
        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await pool.client.execute(upstreamRequest, timeout: timeout)
        } catch {
            exchange.recordUpstream(target: target.origin, elapsed: ContinuousClock.now - sent)
            throw Self.gatewayError(for: error, upstream: pool.config.name, timeout: timeout)
        }
        exchange.recordUpstream(target: target.origin, elapsed: ContinuousClock.now - sent)
        do {
            return try await response(from: upstreamResponse, exchange: exchange)
        } catch {
            throw Self.gatewayError(for: error, upstream: pool.config.name, timeout: timeout)
        }
    }

    /// The path (and query) to send: the public prefix stripped, the target's and the API's base paths added.
    private func upstreamPath(for request: Request, target: TargetConfig) -> String {
        let raw = request.head.path ?? "/"
        var path = Substring(raw)
        if let strippedPrefix, strippedPrefix != "/", path.hasPrefix(strippedPrefix) {
            path = path.dropFirst(strippedPrefix.count)
        }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        return target.basePath + upstreamBasePath + path
    }

    private func forwardedHeaders(_ request: Request, exchange: Exchange, target: TargetConfig) -> HTTPHeaders {
        var fields = request.headers
        HopByHop.strip(&fields)
        fields[.contentLength] = nil
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 6)
        for field in fields { headers.add(name: field.name.rawName, value: field.value) }

        let originalHost = request.head.authority
        if pool.config.preserveHost, let originalHost {
            headers.replaceOrAdd(name: "Host", value: originalHost)
        } else {
            let defaultPort = target.scheme == "https" ? 443 : 80
            headers.replaceOrAdd(name: "Host", value: target.port == defaultPort ? target.host : "\(target.host):\(target.port)")
        }
        if let client = exchange.clientAddress {
            if let existing = request.headers[HopByHop.xForwardedFor] {
                headers.replaceOrAdd(name: "X-Forwarded-For", value: existing + ", " + client)
            } else {
                headers.add(name: "X-Forwarded-For", value: client)
            }
        }
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if let originalHost { headers.replaceOrAdd(name: "X-Forwarded-Host", value: originalHost) }
        let via = request.headers[.via].map { $0 + ", " + Self.via } ?? Self.via
        headers.replaceOrAdd(name: "Via", value: via)
        headers.replaceOrAdd(name: requestIDHeader.rawName, value: exchange.requestID)
        return headers
    }

    /// A streamed body when the request has one (a length, or chunked framing).
    private func requestBody(_ request: Request, exchange: Exchange) -> HTTPClientRequest.Body? {
        let counted = ObservedBody(base: request.body) { chunk, _ in exchange.bytesIn.add(chunk, ordering: .relaxed) }
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }) {
            return length == 0 ? nil : .stream(counted, length: .known(length))
        }
        if request.headers.contains(.transferEncoding) {
            return .stream(counted, length: .unknown)
        }
        return nil
    }

    /// Bodies up to this size whose length the upstream declared are read whole before the head is
    /// written, so head, body and end leave in one write instead of three.
    static let smallBodyLimit = 64 * 1024

    private func response(from upstream: HTTPClientResponse, exchange: Exchange) async throws -> Response {
        var fields = HTTPFields()
        fields.reserveCapacity(upstream.headers.count + 2)
        for (name, value) in upstream.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        HopByHop.strip(&fields)
        fields[.via] = fields[.via].map { $0 + ", " + Self.via } ?? Self.via
        fields[requestIDHeader] = exchange.requestID
        let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)
        let declaredLength = fields[.contentLength].flatMap { Int($0) }

        if let declaredLength, declaredLength <= Self.smallBodyLimit {
            // Small and of known length: collect it (bounded by the declared length) and answer in one write.
            let body = try await upstream.body.collect(upTo: Self.smallBodyLimit)
            exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
            var response = Response(status: status, headers: fields, body: .init(byteBuffer: body))
            response.headers[.contentLength] = String(declaredLength)
            return response
        }
        let body = upstream.body
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody { writer in
                for try await chunk in body {
                    exchange.bytesOut.add(chunk.readableBytes, ordering: .relaxed)
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            }
        )
    }

    /// 504 for anything that timed out, 502 for everything else the upstream did wrong.
    static func gatewayError(for error: any Error, upstream: String, timeout: TimeAmount) -> any Error {
        if let gatewayError = error as? GatewayError { return gatewayError }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout:
                let seconds = Double(timeout.nanoseconds) / 1e9
                return GatewayError.gatewayTimeout("Upstream '\(upstream)' did not answer in time (timeout \(seconds)s).")
            case .connectTimeout:
                return GatewayError.gatewayTimeout("Connecting to upstream '\(upstream)' timed out.")
            case .remoteConnectionClosed:
                return GatewayError.badGateway("Upstream '\(upstream)' closed the connection before answering.")
            default:
                break
            }
        }
        if error is NIOConnectionError || error is IOError {
            return GatewayError.badGateway("Upstream '\(upstream)' refused or reset the connection.")
        }
        return GatewayError.badGateway("Upstream '\(upstream)' failed: \(error)")
    }
}
