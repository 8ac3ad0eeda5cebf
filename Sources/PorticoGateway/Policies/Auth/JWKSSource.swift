import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import PorticoConfig
import Synchronization

/// An identity provider's JWKS, fetched, cached and refetched.
///
/// The keys are fetched when first needed and again every `refresh` in the background; a token
/// with an unknown `kid` causes a fetch at once, but at most once per `minRefetch`. When a
/// fetch fails the keys already held stay in use, so a brief outage of the IdP breaks nothing.
final class JWKSSource: Sendable {
    let url: String
    private let refresh: Duration
    private let minRefetch: Duration
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var table: JWTKeyTable?
        var fetchedAt: ContinuousClock.Instant?
        /// The last fetch caused by an unknown `kid`; those are limited to one per `minRefetch`.
        var lastForced: ContinuousClock.Instant?
        /// The last fetch of any kind; after a failure the IdP is not asked again within `minRefetch`.
        var lastAttempt: ContinuousClock.Instant?
        var inFlight: Task<JWTKeyTable?, Never>?
    }

    init(url: String, refresh: Duration, minRefetch: Duration, logger: Logger) {
        self.url = url
        self.refresh = refresh
        self.minRefetch = minRefetch
        self.logger = logger
    }

    /// The keys to check a token with: the held ones (refreshed in the background when old),
    /// or, when none are held yet, the result of a fetch.
    func keys() async -> JWTKeyTable? {
        let now = ContinuousClock.now
        let (table, stale) = state.withLock { state in
            (state.table, state.fetchedAt.map { now - $0 > refresh } ?? true)
        }
        guard let table else { return await fetch(force: false) }
        if stale { Task { _ = await fetch(force: false) } }
        return table
    }

    /// Fetches again because a token named a `kid` the held keys lack, unless that happened within `minRefetch`.
    func keysForUnknownKid() async -> JWTKeyTable? {
        await fetch(force: true)
    }

    private func fetch(force: Bool) async -> JWTKeyTable? {
        let now = ContinuousClock.now
        let task: Task<JWTKeyTable?, Never>? = state.withLock { state in
            if let inFlight = state.inFlight { return inFlight }
            if force {
                if let last = state.lastForced, now - last < minRefetch { return nil }
                state.lastForced = now
            } else if let fetched = state.fetchedAt, now - fetched <= refresh {
                return nil
            } else if let last = state.lastAttempt, now - last < minRefetch {
                return nil
            }
            state.lastAttempt = now
            let task = Task { await self.download() }
            state.inFlight = task
            return task
        }
        guard let task else { return state.withLock { $0.table } }
        let result = await task.value
        return state.withLock { state in
            state.inFlight = nil
            if let result {
                state.table = result
                state.fetchedAt = ContinuousClock.now
            }
            return state.table
        }
    }

    private func download() async -> JWTKeyTable? {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            guard response.status == .ok else {
                logger.warning(
                    "JWKS fetch failed; keeping the keys held",
                    metadata: ["jwks.url": "\(url)", "http.status": "\(response.status.code)"])
                return nil
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(buffer: body))
            let usable = jwks.keys.filter { !JWTPublicKey.algorithms(of: $0).isEmpty && $0.privateExponent == nil }
            let table = try await JWTKeyTable.build(secret: nil, publicKeys: [], jwks: usable)
            logger.info("JWKS fetched", metadata: ["jwks.url": "\(url)", "keys.count": "\(usable.count)"])
            return table
        } catch {
            logger.warning(
                "JWKS fetch failed; keeping the keys held", metadata: ["jwks.url": "\(url)", "error": "\(error)"])
            return nil
        }
    }
}
