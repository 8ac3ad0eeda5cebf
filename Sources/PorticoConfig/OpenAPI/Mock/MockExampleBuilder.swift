/// Gathers the mock upstream's possible answers for an operation from the bundled document:
/// each response with its media types, their named examples and their schemas.
struct MockExampleBuilder {
    let document: OpenAPIDocument

    /// Every response of the operation, for `Prefer`.
    func mockOperation(for operation: JSONValue) -> MockOperation? {
        guard case .object(let responses)? = operation["responses"].map(document.resolve) else { return nil }
        var answers: [MockOperation.Answer] = []
        for (key, raw) in responses {
            guard let status = Self.status(key) else { continue }
            let response = document.resolve(raw)
            var media: [MockOperation.Media] = []
            for (contentType, rawMedia) in response["content"].map(document.resolve)?.fields ?? [] {
                let entry = document.resolve(rawMedia)
                media.append(
                    MockOperation.Media(
                        contentType: contentType, examples: examples(of: entry), schema: entry["schema"]))
            }
            answers.append(MockOperation.Answer(key: key, status: status, media: media))
        }
        return answers.isEmpty ? nil : MockOperation(answers: answers, document: document)
    }

    private static func status(_ key: String) -> Int? {
        if key == "default" { return 200 }
        if key.count == 3, key.uppercased().hasSuffix("XX"), let hundreds = Int(key.prefix(1)),
            (1...5).contains(hundreds)
        {
            return hundreds * 100
        }
        guard let value = Int(key), (100...599).contains(value) else { return nil }
        return value
    }

    /// `example` (named `default`) and the Example Objects of `examples`, in order.
    private func examples(of media: JSONValue) -> [(name: String, value: JSONValue)] {
        var found: [(name: String, value: JSONValue)] = []
        if let example = media["example"] { found.append(("default", example)) }
        for (name, raw) in media["examples"]?.fields ?? [] {
            if let value = document.resolve(raw)["value"] { found.append((name, value)) }
        }
        if found.isEmpty, let schema = media["schema"].map(document.resolve) {
            if let example = schema["example"] {
                found.append(("default", example))
            } else if let first = schema["examples"]?.items.first {
                found.append(("default", first))
            }
        }
        return found
    }
}
