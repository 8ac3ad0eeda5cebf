import HTTPTypes
import Hummingbird
import PorticoConfig

/// Refuses callers by address with 403: the API's or route's lists before anything else, and a
/// consumer's own lists once auth has named the consumer. The address is the client's as the
/// trusted-proxy settings resolve it, so `X-Forwarded-For` counts only from a trusted proxy.
struct IPRulePolicy: FastPolicy {
    let phase = PolicyPhase.request
    /// 7000 for the route's lists (first of all but the lifecycle), 4500 for consumers' (after auth at 5000).
    let priority: Int
    let rules: CompiledIPRules?
    let consumerRules: [String: CompiledIPRules]
    let clientAddress: ClientAddress

    /// The route's lists, checked before auth.
    init(route rules: IPRulesConfig, clientAddress: ClientAddress) {
        self.priority = 7_000
        self.rules = CompiledIPRules(rules)
        self.consumerRules = [:]
        self.clientAddress = clientAddress
    }

    /// Each consumer's lists, checked after auth; nil when no consumer has any.
    init?(consumers: [ConsumerConfig], clientAddress: ClientAddress) {
        var table: [String: CompiledIPRules] = [:]
        for consumer in consumers { if let rules = consumer.ipRules { table[consumer.name] = CompiledIPRules(rules) } }
        guard !table.isEmpty else { return nil }
        self.priority = 4_500
        self.rules = nil
        self.consumerRules = table
        self.clientAddress = clientAddress
    }

    private func decide(headers: HTTPFields, exchange: Exchange) -> GatewayError? {
        let applying: CompiledIPRules
        if let rules {
            applying = rules
        } else if let consumer = exchange.identity?.consumer, let rules = consumerRules[consumer] {
            applying = rules
        } else {
            return nil
        }
        let address = clientAddress.resolve(peer: exchange.clientAddress, headers: headers)
        guard let address, let bytes = CIDRBlock.bytes(of: address) else {
            return .denied("The client address could not be determined.")
        }
        return applying.admits(bytes) ? nil : .denied("Calls from this address are not allowed.")
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        decide(headers: head.headerFields, exchange: exchange).map { .refuse($0) } ?? .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {}

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        if let error = decide(headers: request.headers, exchange: exchange) { throw error }
        return try await next(request, exchange: exchange)
    }
}
