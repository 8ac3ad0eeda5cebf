import HTTPTypes
import PorticoConfig

/// Renders a backend call's path and headers from the client's request, the earlier calls'
/// answers and the `for-each` element. Every value is made safe for where it goes (percent-encoded
/// in a path or query, without control characters in a header), whoever sent it: the client, or a
/// backend whose answer another call reads.
struct CallRenderer: Sendable {
    let renderer: TemplateRenderer

    /// The rendered text, or the placeholder that had no value (an earlier answer lacking the field).
    func render(
        _ template: CallTemplate, for target: TemplateRenderer.Target, exchange: Exchange,
        answers: [String: CallAnswer], item: JSONValue?
    ) -> Result<String, MissingValue> {
        var output = ""
        for part in template.parts {
            switch part {
            case .text(let text):
                output += text
            case .request(let source):
                TemplateRenderer.append(renderer.value(of: source, exchange: exchange), for: target, to: &output)
            case .call(let name, let value):
                guard let answer = answers[name] else {
                    return .failure(MissingValue(placeholder: "calls.\(name)", call: name))
                }
                let text: String?
                switch value {
                case .status: text = String(answer.status)
                case .header(let header): text = HTTPField.Name(header).flatMap { answer.headers[$0] }
                case .body(let selector): text = selector.value(in: answer.body)?.scalarText
                }
                guard let text else {
                    return .failure(MissingValue(placeholder: Self.describe(name: name, value: value), call: name))
                }
                TemplateRenderer.append(text, for: target, to: &output)
            case .item(let selector):
                guard let item, let text = (selector.map { $0.value(in: item) } ?? item)?.scalarText else {
                    return .failure(
                        MissingValue(
                            placeholder: "the for-each element" + (selector.map { " field \($0)" } ?? ""), call: nil))
                }
                TemplateRenderer.append(text, for: target, to: &output)
            }
        }
        return .success(output)
    }

    struct MissingValue: Error {
        let placeholder: String
        let call: String?
    }

    static func describe(name: String, value: CallTemplate.CallValue) -> String {
        switch value {
        case .status: return "calls.\(name).status"
        case .header(let header): return "calls.\(name).header.\(header)"
        case .body(let selector): return "calls.\(name).body" + (selector.steps.isEmpty ? "" : ".\(selector)")
        }
    }
}
