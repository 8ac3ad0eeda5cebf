import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// Reads a request's key from configured parts, for rate limits (`by`) and the cache (`key`).
struct RequestKey: Sendable {
    /// Where the client address comes from (the socket, or `X-Forwarded-For` behind trusted proxies).
    let clientAddress: ClientAddress
    let routeName: String
    let apiName: String

    /// The key's value for this request: the parts joined, each falling back sensibly.
    func value(of parts: [LimitKeyPart], request: Request, exchange: Exchange) -> String {
        value(of: parts, headers: request.headers, exchange: exchange)
    }

    /// The same from a request's header fields, for the event-loop path.
    func value(of parts: [LimitKeyPart], headers: HTTPFields, exchange: Exchange) -> String {
        if parts.count == 1 { return value(parts[0], headers: headers, exchange: exchange) }
        return parts.map { value($0, headers: headers, exchange: exchange) }.joined(separator: "|")
    }

    private func value(_ part: LimitKeyPart, headers: HTTPFields, exchange: Exchange) -> String {
        switch part {
        case .consumer:
            if let consumer = exchange.identity?.consumer { return consumer }
            return "ip:" + clientIP(headers, exchange: exchange)
        case .credential:
            if let credential = exchange.identity?.credential { return credential }
            return "ip:" + clientIP(headers, exchange: exchange)
        case .ip: return clientIP(headers, exchange: exchange)
        case .route: return routeName
        case .api: return apiName
        case .header(let name): return Self.bounded(HTTPField.Name(name).flatMap { headers[$0] } ?? "")
        }
    }

    /// The longest client-chosen key part kept as sent; a longer one is replaced by its SHA-256,
    /// so one limiter or cache entry's key costs at most this many bytes per part.
    static let maximumPartBytes = 128

    static func bounded(_ value: String) -> String {
        guard value.utf8.count > maximumPartBytes else { return value }
        return "sha256:" + SHA256.hash(data: Array(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private func clientIP(_ headers: HTTPFields, exchange: Exchange) -> String {
        clientAddress.resolve(peer: exchange.clientAddress, headers: headers) ?? "unknown"
    }
}
