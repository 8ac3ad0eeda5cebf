/// Every answer the mock upstream can give for one operation, as its document describes them, so
/// that a request can pick one with Prism's `Prefer` conventions (`code=404`, `example=cat`,
/// `dynamic=true`).
package struct MockOperation: Sendable {
    package struct Answer: Sendable {
        /// The status as written: `200`, `4XX` or `default`.
        package var key: String
        /// The status sent: the code, the first of a range (`4XX` → 400), or 200 for `default`.
        package var status: Int
        /// Each media type of the response, in document order; empty for a response without a body.
        package var media: [Media]
    }

    package struct Media: Sendable {
        package var contentType: String
        /// Named examples in document order (`example` alone is named `default`).
        package var examples: [(name: String, value: JSONValue)]
        /// The schema, with `$ref`s into `document`.
        package var schema: JSONValue?
    }

    /// The operation's responses in document order.
    package var answers: [Answer]
    /// The document the schemas refer into.
    package var document: OpenAPIDocument

    /// The answer sent without a preference: the first 2xx, else the first of all.
    package var preferred: Answer? {
        answers.first { (200...299).contains($0.status) && $0.key != "default" } ?? answers.first
    }

    /// The answer for a status a client asked for: exact, else its range (`4XX`), else `default`.
    package func answer(for status: Int) -> Answer? {
        if let exact = answers.first(where: { $0.key == String(status) }) { return exact }
        let range = "\(status / 100)XX"
        if var ranged = answers.first(where: { $0.key.uppercased() == range }) {
            ranged.status = status
            return ranged
        }
        if var fallback = answers.first(where: { $0.key == "default" }) {
            fallback.status = status
            return fallback
        }
        return nil
    }

    /// The answer without a preference: the preferred response's JSON media type (else its
    /// first), with its first example or a value generated from its schema.
    package func defaultResponse() -> MockResponse? {
        guard let answer = preferred else { return nil }
        guard
            let media = answer.media.first(where: { $0.contentType.lowercased().contains("json") })
                ?? answer.media.first
        else {
            return MockResponse(status: answer.status, contentType: nil, body: [])
        }
        var sampler = SchemaSampler(document: document, random: nil)
        let value = media.examples.first?.value ?? media.schema.map { sampler.sample($0) } ?? .null
        return MockResponse(
            status: answer.status, contentType: media.contentType,
            body: Self.body(value, contentType: media.contentType))
    }

    /// The body bytes of a value: JSON text, or a string's own text for other media types.
    package static func body(_ value: JSONValue, contentType: String) -> [UInt8] {
        if !contentType.lowercased().contains("json"), case .string(let text) = value { return Array(text.utf8) }
        return Array(value.jsonText.utf8)
    }
}
