/// Builds the mock upstream's answers for an operation from the bundled document.
///
/// The default answer is the first 2xx response: its `example`, the first of its `examples`, or
/// a value generated from its schema (`SchemaSampler`). `$ref`s are followed through the
/// document; recursion stops at the sampler's depth.
struct MockExampleBuilder {
    let document: OpenAPIDocument

    /// The default answer, fixed at load time.
    func mockResponse(forOperation operation: JSONValue) -> MockResponse? {
        guard let operation = mockOperation(for: operation), let answer = operation.preferred else { return nil }
        guard let media = answer.media.first(where: { $0.contentType.lowercased().contains("json") }) ?? answer.media.first else {
            return MockResponse(status: answer.status, contentType: nil, body: [])
        }
        var sampler = SchemaSampler(document: document, random: nil)
        let value = media.examples.first?.value ?? media.schema.map { sampler.sample($0) } ?? .null
        return MockResponse(status: answer.status, contentType: media.contentType, body: MockOperation.body(value, contentType: media.contentType))
    }

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
                media.append(MockOperation.Media(contentType: contentType, examples: examples(of: entry), schema: entry["schema"]))
            }
            answers.append(MockOperation.Answer(key: key, status: status, media: media))
        }
        return answers.isEmpty ? nil : MockOperation(answers: answers, document: document)
    }

    private static func status(_ key: String) -> Int? {
        if key == "default" { return 200 }
        if key.count == 3, key.uppercased().hasSuffix("XX"), let hundreds = Int(key.prefix(1)), (1...5).contains(hundreds) {
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
