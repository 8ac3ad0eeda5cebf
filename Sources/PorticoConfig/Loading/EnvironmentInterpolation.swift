/// Replaces `${NAME}` and `${NAME:-default}` in config values with environment variables.
///
/// A dotted name (`${consumer.name}`, `${path.id}`) is a request placeholder of a transform or
/// redirect (`ValueTemplate`), not a variable: it is left as written.
struct EnvironmentInterpolation: Sendable {
    let environment: [String: String]

    enum Failure: Error {
        case unset(String)
        case unterminated
    }

    func apply(_ text: String) -> Result<String, Failure> {
        guard text.contains("${") else { return .success(text) }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return .failure(.unterminated) }
            let expression = rest[start.upperBound..<end]
            let name: Substring
            let fallback: Substring?
            if let separator = expression.range(of: ":-") {
                name = expression[..<separator.lowerBound]
                fallback = expression[separator.upperBound...]
            } else {
                name = expression
                fallback = nil
            }
            if fallback == nil, name.contains(".") {
                output += rest[start.lowerBound...end]
            } else if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                return .failure(.unset(String(name)))
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return .success(output)
    }
}
