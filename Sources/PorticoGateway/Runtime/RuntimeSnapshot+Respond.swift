import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import PorticoStore
import Synchronization

/// Serving one request from the snapshot: match a route, run its chain, and render every failure
/// as problem+json.
extension RuntimeSnapshot {
    /// What serving one request produced, before the response is written.
    package struct Served: Sendable {
        package var response: Response
        /// The request's exchange; nil when no route matched.
        package var exchange: Exchange?
        /// The error the response reports, if it is one.
        package var failure: GatewayError?
        /// The path the call is logged with: the canonical one, or the refused one cut short.
        package var path: String = ""
    }

    /// Matches the request to a route and runs its chain; every failure becomes a problem+json response.
    ///
    /// The gateway's handler writes and logs what this returns; `portico-bench auth` calls it in a loop.
    /// `terminal` replaces every route's terminal stage (`PolicyHarness` plays the upstream so).
    package func respond(
        to sent: Request, requestID: String, trace: TraceContext? = nil, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger
    ) async -> Served {
        await respond(
            to: sent, requestID: requestID, trace: trace, clientAddress: clientAddress, start: start, logger: logger,
            terminal: nil)
    }

    package func respond(
        to sent: Request, requestID: String, trace: TraceContext?, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger, terminal: (any Policy)?
    ) async -> Served {
        let request: Request
        switch requestGuard.admit(sent.head, peer: clientAddress) {
        case .success(let head):
            request = head.map { Request(head: $0, body: sent.body) } ?? sent
        case .failure(let error):
            let path = CallRecord.bounded(sent.uri.path, to: CallRecord.maximumPathBytes)
            var served = Served(
                response: error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                failure: error)
            served.path = path
            return served
        }
        var served = await respondAdmitted(
            to: request, requestID: requestID, trace: trace, clientAddress: clientAddress, start: start, logger: logger,
            terminal: terminal)
        served.path = request.uri.path
        return served
    }

    private func respondAdmitted(
        to request: Request, requestID: String, trace: TraceContext?, clientAddress: String?,
        start: ContinuousClock.Instant,
        logger: Logger, terminal: (any Policy)?
    ) async -> Served {
        let path = request.uri.path
        switch mount?.claim(host: request.head.authority, path: path) ?? .pass {
        case .pass:
            break
        case .refuse:
            let failure = GatewayError.noRoute
            return Served(
                response: failure.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                failure: failure)
        case .serve:
            do {
                let address = limits.clientAddress.resolve(peer: clientAddress, headers: request.headers)
                var response = try await mount!.respond(
                    to: request, requestID: requestID, snapshot: self, clientAddress: address)
                response.headers.setUnindexed(requestIDHeader, requestID)
                return Served(response: response)
            } catch let error as GatewayError {
                return Served(
                    response: error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    failure: error)
            } catch {
                // The error's text names internal types and files: it goes to the log, not to the client.
                logger.error("mounted handler failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
                let wrapped = GatewayError.badGateway("The gateway could not answer.")
                return Served(
                    response: wrapped.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    failure: wrapped)
            }
        }
        let match = routes.match(request.head, path: path)
        let failure: GatewayError
        switch match {
        case .route(let route):
            let exchange = Exchange(
                requestID: requestID, trace: trace ?? TraceContext(headers: request.headers),
                clientAddress: clientAddress, host: request.head.authority, start: start, route: route,
                request: request.head)
            do {
                let chain = terminal.map(route.chain.replacingTerminal) ?? route.chain
                return Served(response: try await chain.run(request, exchange: exchange), exchange: exchange)
            } catch let error as GatewayError {
                var response = error.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader)
                response.headers.append(contentsOf: exchange.errorFields)
                if let cache = exchange.cacheStatus {
                    response.headers[CachePolicy.cacheStatusHeader] = cache.headerValue
                }
                return Served(response: response, exchange: exchange, failure: error)
            } catch {
                let wrapped = GatewayError.badGateway("The gateway could not complete the request.")
                logger.error("request failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
                return Served(
                    response: wrapped.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
                    exchange: exchange, failure: wrapped)
            }
        case .methodNotAllowed(let allowed): failure = .methodNotAllowed(allowed: allowed)
        case .unknownVersion(let requested, let available):
            failure = .unknownVersion(requested: requested, available: available)
        case .notFound: failure = .noRoute
        }
        return Served(
            response: failure.response(requestID: requestID, instance: path, requestIDHeader: requestIDHeader),
            failure: failure)
    }
}
