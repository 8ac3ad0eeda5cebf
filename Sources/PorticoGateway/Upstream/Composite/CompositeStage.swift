import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig

/// The terminal stage of a composite endpoint: runs its backend calls, each as soon as the calls
/// it reads have answered (so independent calls run at once), and answers with their merge.
///
/// A call that fails is skipped by the merge when it is optional (the answer then says it is
/// incomplete), and fails the client's request with its problem when it is required; a call that
/// reads a failed call's answer fails with it.
struct CompositeStage: Policy {
    let phase = PolicyPhase.upstream
    let priority = 0
    let config: CompositeConfig
    /// In declaration order.
    let calls: [BackendCall]
    let renderer: CallRenderer
    let cache: BackendCache?
    let requestIDHeader: HTTPField.Name
    /// What of the client's request is sent to every call.
    let forwardHeaders: [HTTPField.Name]
    /// The largest client body read for a call with `body: forward`.
    let maxBodySize: Int

    static let completed = HTTPField.Name("X-Portico-Completed")!
    /// The gateway's identity headers (set by auth; a client's own were removed on the way in).
    static let identityHeaders = [Identity.consumerNameHeader, Identity.consumerGroupsHeader, Identity.scopesHeader]

    init(
        config: CompositeConfig, calls: [BackendCall], renderer: TemplateRenderer, cache: BackendCache?,
        requestIDHeader: HTTPField.Name,
        maxBodySize: Int
    ) {
        self.config = config
        self.calls = calls
        self.renderer = CallRenderer(renderer: renderer)
        self.cache = calls.contains(where: \.config.cache) ? cache : nil
        self.requestIDHeader = requestIDHeader
        self.forwardHeaders = config.forwardHeaders.compactMap { HTTPField.Name($0) }
        self.maxBodySize = maxBodySize
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        let body = try await clientBody(request, exchange: exchange)
        let start = ContinuousClock.now
        let results = await run(request.head, body: body, exchange: exchange)
        exchange.recordUpstream(target: "composite", elapsed: ContinuousClock.now - start)
        return try answer(results, exchange: exchange)
    }

    /// The client's body when a call forwards it (bounded), else drained.
    private func clientBody(_ request: Request, exchange: Exchange) async throws -> ByteBuffer? {
        guard calls.contains(where: \.config.forwardBody) else {
            try await StaticStage.drain(request, exchange: exchange)
            return nil
        }
        let body = try await BoundedBody.collect(request, limit: maxBodySize)
        exchange.bytesIn.add(body.readableBytes, ordering: .relaxed)
        return body
    }

    // MARK: Running the calls

    /// Every call's result, by name. A call starts once every call it reads has a result.
    func run(_ head: HTTPRequest, body: ByteBuffer?, exchange: Exchange) async -> [String: CallResult] {
        var results: [String: CallResult] = [:]
        let budget = AnswerBudget(limit: config.maxMergedSize)
        await withTaskGroup(of: (String, CallResult).self) { group in
            var started = Set<Int>()
            func startReady() {
                var progressed = true
                while progressed {
                    progressed = false
                    for (index, call) in calls.enumerated() where !started.contains(index) {
                        let dependencies = call.config.dependencies
                        guard dependencies.allSatisfy({ results[$0] != nil }) else { continue }
                        started.insert(index)
                        var answers: [String: CallAnswer] = [:]
                        for name in dependencies { answers[name] = results[name]?.answer }
                        if let failed = dependencies.sorted().first(where: { answers[$0] == nil }) {
                            // Nothing to read: this call fails with the one it depends on.
                            let failure = CallFailure(
                                name: call.config.name, reason: "needs '\(failed)', which failed",
                                error: results[failed]?.failures.first?.error ?? .badGateway("Call '\(failed)' failed.")
                            )
                            results[call.config.name] = .failed(failure)
                            exchange.recordBackendCall(
                                .init(
                                    name: call.config.name, target: nil, status: 0, milliseconds: 0,
                                    error: failure.reason, spanID: nil))
                            progressed = true
                            continue
                        }
                        group.addTask {
                            (
                                call.config.name,
                                await self.perform(
                                    call, answers: answers, head: head, body: body, exchange: exchange, budget: budget)
                            )
                        }
                    }
                }
            }
            startReady()
            while let (name, result) = await group.next() {
                results[name] = result
                startReady()
            }
        }
        return results
    }

    /// One call: its single request, or one per element of its `for-each`.
    private func perform(
        _ call: BackendCall, answers: [String: CallAnswer], head: HTTPRequest, body: ByteBuffer?, exchange: Exchange,
        budget: AnswerBudget
    ) async -> CallResult {
        guard let forEach = call.config.forEach else {
            switch await request(
                call, name: call.config.name, answers: answers, item: nil, head: head, body: body, exchange: exchange,
                budget: budget)
            {
            case .success(let answer): return .answered(answer)
            case .failure(let failure): return .failed(failure)
            }
        }
        let items = answers[forEach.call].map { forEach.selector.values(in: $0.body) } ?? []
        guard items.count <= forEach.maxItems else {
            return .failed(
                CallFailure(
                    name: call.config.name, reason: "\(items.count) elements, more than max-items \(forEach.maxItems)",
                    error: .badGateway(
                        "Call '\(call.config.name)' would be made \(items.count) times; at most \(forEach.maxItems) are allowed."
                    )))
        }
        var answered = [CallAnswer?](repeating: nil, count: items.count)
        var failures: [CallFailure] = []
        await withTaskGroup(of: (Int, Result<CallAnswer, CallFailure>).self) { group in
            var nextItem = 0
            func startNext() {
                guard nextItem < items.count else { return }
                let index = nextItem
                nextItem += 1
                group.addTask {
                    (
                        index,
                        await self.request(
                            call, name: "\(call.config.name)[\(index)]", answers: answers, item: items[index],
                            head: head, body: body, exchange: exchange,
                            budget: budget)
                    )
                }
            }
            for _ in 0..<min(forEach.concurrency, items.count) { startNext() }
            while let (index, result) = await group.next() {
                switch result {
                case .success(let answer): answered[index] = answer
                case .failure(let failure): failures.append(failure)
                }
                startNext()
            }
        }
        failures.sort {
            $0.name.utf8.count != $1.name.utf8.count ? $0.name.utf8.count < $1.name.utf8.count : $0.name < $1.name
        }
        let kept = answered.compactMap { $0 }
        let lifetimes = kept.map(\.sharedLifetime)
        let collected = CallAnswer(
            status: 200, headers: Self.collectedHeaders(kept), body: .array(kept.map(\.body)),
            sharedLifetime: kept.isEmpty || lifetimes.contains(nil) ? nil : lifetimes.compactMap { $0 }.min())
        if !items.isEmpty, kept.isEmpty, let first = failures.first { return .failed(first) }
        return failures.isEmpty ? .answered(collected) : .partial(collected, failures)
    }

    /// The `Cache-Control` that stands for several answers: the strictest of theirs.
    private static func collectedHeaders(_ answers: [CallAnswer]) -> HTTPFields {
        guard let directive = CacheDirective.combined(answers.map { CacheDirective($0) }).fieldValue else { return [:] }
        return [.cacheControl: directive]
    }

    /// One request of a call: its path and headers rendered, then sent.
    private func request(
        _ call: BackendCall, name: String, answers: [String: CallAnswer], item: JSONValue?, head client: HTTPRequest,
        body: ByteBuffer?,
        exchange: Exchange, budget: AnswerBudget
    ) async -> Result<CallAnswer, CallFailure> {
        let path: String
        switch renderer.render(call.config.path, for: .url, exchange: exchange, answers: answers, item: item) {
        case .success(let rendered): path = rendered
        case .failure(let missing): return .failure(Self.missing(missing, call: call, name: name, exchange: exchange))
        }
        var fields = HTTPFields()
        for header in Self.identityHeaders + forwardHeaders {
            for value in client.headerFields[values: header] { fields.append(HTTPField(name: header, value: value)) }
        }
        fields[.accept] = "application/json"
        for header in call.config.headers {
            guard let fieldName = HTTPField.Name(header.name) else { continue }
            switch renderer.render(header.value, for: .header, exchange: exchange, answers: answers, item: item) {
            case .success(let value): fields[fieldName] = value
            case .failure(let missing):
                return .failure(Self.missing(missing, call: call, name: name, exchange: exchange))
            }
        }
        var sent: ByteBuffer?
        if call.config.forwardBody, let body {
            sent = body
            if let type = client.headerFields[.contentType] { fields[.contentType] = type }
        }
        let head = HTTPRequest(
            method: HTTPRequest.Method(call.config.method) ?? .get, scheme: client.scheme, authority: client.authority,
            path: path, headerFields: fields)
        return await call.fetch(
            name: name, head: head, body: sent, exchange: exchange,
            cache: call.config.cache && sent == nil ? cache : nil, budget: budget)
    }

    private static func missing(
        _ missing: CallRenderer.MissingValue, call: BackendCall, name: String, exchange: Exchange
    ) -> CallFailure {
        let failure = CallFailure(
            name: name, reason: "no value for \(missing.placeholder)",
            error: .badGateway(
                "Call '\(call.config.name)' needs \(missing.placeholder), which \(missing.call.map { "call '\($0)'" } ?? "the element") did not answer."
            ))
        exchange.recordBackendCall(
            .init(name: name, target: nil, status: 0, milliseconds: 0, error: failure.reason, spanID: nil))
        return failure
    }

    // MARK: The answer

    func answer(_ results: [String: CallResult], exchange: Exchange) throws -> Response {
        var failures: [CallFailure] = []
        for call in calls {
            let failed = results[call.config.name]?.failures ?? []
            if !failed.isEmpty, call.config.required || config.partial == .fail { throw failed[0].error }
            failures += failed
        }
        let merged = CompositeMerge(config: config, calls: calls.map(\.config)).merge(results, failures: failures)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.setUnindexed(requestIDHeader, exchange.requestID)
        headers[Self.completed] = failures.isEmpty ? "true" : "false"
        // A partial answer is never kept by a cache; a whole one as long as every part allows.
        let answers = calls.compactMap { results[$0.config.name]?.answer }
        let directive =
            failures.isEmpty ? CacheDirective.combined(answers.map { CacheDirective($0) }) : .forbidden("no-store")
        if let value = directive.fieldValue { headers[.cacheControl] = value }
        let bytes = ByteBuffer(string: merged.jsonText)
        headers[.contentLength] = String(bytes.readableBytes)
        exchange.bytesOut.add(bytes.readableBytes, ordering: .relaxed)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: bytes))
    }
}
