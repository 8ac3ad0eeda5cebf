import PorticoConfig

/// Why one try at a target ended without a response head (or, for `cutOff`, without its body).
struct UpstreamFailure: Error, Equatable {
    enum Kind: Equatable {
        /// The connection could not be opened: refused, unreachable, no route.
        case connectFailure
        /// Opening the connection took longer than `connect-timeout`.
        case connectTimeout
        /// No pooled connection became free within `connect-timeout`.
        case poolExhausted
        /// The target closed or reset the connection before the response head.
        case reset
        /// The response head did not arrive within the try's timeout.
        case timeout
        /// The target broke off the response body, or fell silent in it past `idle-timeout`.
        case cutOff
        /// The target sent something that is not HTTP/1.1.
        case malformed
    }

    let kind: Kind

    static let connectFailure = UpstreamFailure(kind: .connectFailure)
    static let connectTimeout = UpstreamFailure(kind: .connectTimeout)
    static let poolExhausted = UpstreamFailure(kind: .poolExhausted)
    static let reset = UpstreamFailure(kind: .reset)
    static let timeout = UpstreamFailure(kind: .timeout)
    static let cutOff = UpstreamFailure(kind: .cutOff)
    static let malformed = UpstreamFailure(kind: .malformed)

    /// The retry condition this failure is; nil for failures that are never retried.
    var condition: RetryConfig.Condition? {
        switch kind {
        case .connectFailure, .connectTimeout, .poolExhausted: return .connectFailure
        case .reset: return .reset
        case .timeout: return .timeout
        case .cutOff, .malformed: return nil
        }
    }

    /// 504 for what timed out, 502 for the rest. Neither the upstream's name nor an error's text
    /// (addresses, type names) is the client's business.
    func gatewayError(timeout: Duration) -> GatewayError {
        switch kind {
        case .timeout:
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            return .gatewayTimeout("The upstream service did not answer in time (timeout \(seconds)s).")
        case .connectTimeout: return .gatewayTimeout("Connecting to the upstream service timed out.")
        case .poolExhausted: return .gatewayTimeout("No connection to the upstream service became free in time.")
        case .connectFailure: return .badGateway("The upstream service refused or reset the connection.")
        case .reset: return .badGateway("The upstream service closed the connection before answering.")
        case .cutOff: return .badGateway("The upstream service broke off its answer.")
        case .malformed: return .badGateway("The upstream service sent a malformed answer.")
        }
    }
}
