import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import Synchronization

/// The terminal stage of `upstream: mock`: answers from the operation's OpenAPI document.
///
/// Without a preference it gives the first 2xx response's example (built once per config). A
/// client picks another answer with Prism's conventions in `Prefer` (RFC 7240):
/// `code=404` (that status, else its `4XX` range, else `default`), `example=name` (a named
/// example, searched in the chosen response or, without a code, in every response), and
/// `dynamic=true` (a new value from the schema each time). `Accept` picks among a response's
/// media types. The answer says what it applied in `Preference-Applied`.
struct MockStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    /// The answer without a preference, built on the first request that needs it.
    let fallback: LazyAnswer
    let operation: MockOperation?
    let requestIDHeader: HTTPField.Name

    /// The default answer, computed once per snapshot on first use rather than at every reload.
    final class LazyAnswer: Sendable {
        private let build: @Sendable () -> MockResponse?
        private let answer = Mutex<(MockResponse?)?>(nil)

        init(_ build: @escaping @Sendable () -> MockResponse?) { self.build = build }

        var value: MockResponse? {
            if let known = answer.withLock({ $0 }) { return known }
            let made = build()
            answer.withLock { $0 = made }
            return made
        }
    }

    static let mockHeader = HTTPField.Name("X-Portico-Mock")!
    static let preferenceApplied = HTTPField.Name("Preference-Applied")!
    static let prefer = HTTPField.Name("Prefer")!

    init(operation: MockOperation?, requestIDHeader: HTTPField.Name) {
        self.fallback = LazyAnswer { operation?.defaultResponse() }
        self.operation = operation
        self.requestIDHeader = requestIDHeader
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        try await StaticStage.drain(request, exchange: exchange)
        let preferences = Self.preferences(request.headers[values: Self.prefer])
        guard let operation, !preferences.isEmpty else {
            guard let mock = fallback.value else { throw GatewayError.noMockExample }
            return answer(
                status: HTTPResponse.Status(code: mock.status), contentType: mock.contentType,
                body: ByteBuffer(bytes: mock.body),
                applied: [], exchange: exchange)
        }
        var applied: [String] = []
        var candidates = operation.answers
        if let code = preferences["code"] {
            guard let status = Int(code), (100...599).contains(status), let chosen = operation.answer(for: status)
            else {
                throw GatewayError.badRequest(
                    "The operation documents no \(code) response for the mock to give (Prefer: code=\(code)).")
            }
            candidates = [chosen]
            applied.append("code=\(code)")
        } else if let preferred = operation.preferred {
            // The usual answer first, then the others, for a named example.
            candidates = [preferred] + operation.answers.filter { $0.key != preferred.key }
        }
        var chosen: (answer: MockOperation.Answer, media: MockOperation.Media?, value: JSONValue?)?
        if let name = preferences["example"] {
            for answer in candidates {
                for media in Self.ordered(answer.media, accept: request.headers[.accept]) {
                    if let example = media.examples.first(where: { $0.name == name }) {
                        chosen = (answer, media, example.value)
                        break
                    }
                }
                if chosen != nil { break }
            }
            guard chosen != nil else {
                throw GatewayError.badRequest(
                    "The operation has no example named '\(name)' for the mock to give (Prefer: example=\(name)).")
            }
            applied.append("example=\(name)")
        }
        if chosen == nil, let answer = candidates.first {
            let media = Self.ordered(answer.media, accept: request.headers[.accept]).first
            var value = media?.examples.first?.value
            if preferences["dynamic"] == "true", let schema = media?.schema {
                var sampler = SchemaSampler(document: operation.document, random: SystemRandomNumberGenerator())
                value = sampler.sample(schema)
                applied.append("dynamic=true")
            } else if value == nil, let schema = media?.schema {
                var sampler = SchemaSampler(document: operation.document, random: nil)
                value = sampler.sample(schema)
            }
            chosen = (answer, media, value)
        }
        guard let chosen else { throw GatewayError.noMockExample }
        let type = chosen.media?.contentType
        let bytes = chosen.value.map { MockOperation.body($0, contentType: type ?? "application/json") } ?? []
        return answer(
            status: HTTPResponse.Status(code: chosen.answer.status), contentType: type, body: ByteBuffer(bytes: bytes),
            applied: applied,
            exchange: exchange)
    }

    private func answer(
        status: HTTPResponse.Status, contentType: String?, body: ByteBuffer, applied: [String], exchange: Exchange
    ) -> Response {
        var headers: HTTPFields = [Self.mockHeader: "true"]
        headers.setUnindexed(requestIDHeader, exchange.requestID)
        if let contentType { headers[.contentType] = contentType }
        if !applied.isEmpty { headers[Self.preferenceApplied] = applied.joined(separator: ", ") }
        if operation != nil { headers[.vary] = "Prefer, Accept" }
        exchange.bytesOut.add(body.readableBytes, ordering: .relaxed)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// `Prefer: code=404, example="not found"` (several headers or one list), keys lower-cased.
    /// Other preferences (`return=minimal`, `respond-async`) are not the mock's and are ignored.
    static func preferences(_ values: [String]) -> [String: String] {
        var found: [String: String] = [:]
        for value in values {
            for item in value.split(separator: ",") {
                // A preference's parameters (after `;`) are not used.
                let token = item.split(separator: ";", maxSplits: 1).first ?? ""
                let pair = token.split(separator: "=", maxSplits: 1)
                let key = pair.first.map { $0.trimmingWhitespace().lowercased() } ?? ""
                guard ["code", "example", "dynamic"].contains(key), found[key] == nil else { continue }
                var text = pair.count > 1 ? pair[1].trimmingWhitespace() : "true"
                if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                    text = String(text.dropFirst().dropLast())
                }
                found[key] = String(text.prefix(256))
            }
        }
        return found
    }

    /// A response's media types, those the client's `Accept` names first.
    static func ordered(_ media: [MockOperation.Media], accept: String?) -> [MockOperation.Media] {
        guard let accept, !media.isEmpty else { return media }
        let wanted = accept.split(separator: ",").map {
            $0.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        }
        func fits(_ type: String) -> Bool {
            let lowered = type.lowercased()
            return wanted.contains { range in
                range == lowered || range == "*/*"
                    || (range.hasSuffix("/*") && lowered.hasPrefix(String(range.dropLast())))
            }
        }
        return media.filter { fits($0.contentType) } + media.filter { !fits($0.contentType) }
    }
}
