import HTTPTypes
import PorticoConfig

/// Renders a `ValueTemplate` from a request: the client's head as it reached the chain, the
/// caller's identity and the route. Each value read from the request is made safe for where it
/// goes: percent-encoded into a path or query, stripped of control characters in a header.
struct TemplateRenderer: Sendable {
    let clientAddress: ClientAddress

    enum Target {
        /// A header value: control characters are dropped, so no value can end the field.
        case header
        /// A path or query: values are percent-encoded, so none adds a segment or parameter.
        case url
        /// Plain text (a JSON string is quoted where it is written).
        case text
    }

    func render(_ template: ValueTemplate, exchange: Exchange, for target: Target) -> String {
        // Most templates are one constant or one placeholder: no string is built for those.
        if template.parts.count == 1 {
            if case .text(let text) = template.parts[0] { return text }
            if target == .text { return value(of: template.parts[0], exchange: exchange) }
        }
        var output = ""
        for part in template.parts {
            if case .text(let text) = part {
                output += text
                continue
            }
            Self.append(self.value(of: part, exchange: exchange), for: target, to: &output)
        }
        return output
    }

    /// Appends a value read from the request (or an upstream's answer) made safe for `target`.
    static func append(_ value: String, for target: Target, to output: inout String) {
        switch target {
        case .text: output += value
        // A value of dots alone would be a `.` or `..` segment to the upstream.
        case .url:
            output +=
                value == "." || value == ".."
                ? String(repeating: "%2E", count: value.count) : PercentEncoding.encode(value)
        case .header:
            if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) {
                output += value
            } else {
                output.unicodeScalars.append(
                    contentsOf: value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
            }
        }
    }

    func value(of part: ValueTemplate.Part, exchange: Exchange) -> String {
        let identity = exchange.identity
        switch part {
        case .text(let text): return text
        case .consumerName: return identity?.consumer ?? ""
        case .consumerGroups: return identity?.groups.joined(separator: ",") ?? ""
        case .consumerPlan: return identity?.plan ?? ""
        case .claim(let name): return identity?.claims[name] ?? ""
        case .path(let name):
            return PathParameters.value(of: name, template: exchange.route.template, path: exchange.request.path ?? "/")
                ?? ""
        case .query(let name): return QueryParameter.value(of: name, in: exchange.request.path ?? "/") ?? ""
        case .header(let name): return HTTPField.Name(name).flatMap { exchange.request.headerFields[$0] } ?? ""
        case .requestID: return exchange.requestID
        case .routeName: return exchange.route.name
        case .apiName: return exchange.route.apiName
        case .clientIP:
            return clientAddress.resolve(peer: exchange.clientAddress, headers: exchange.request.headerFields) ?? ""
        }
    }
}
