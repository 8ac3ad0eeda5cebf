import Crypto
internal import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
internal import OpenAPIRuntime
import PorticoConfig
import PorticoGateway
import PorticoRedis
import PorticoStore
import ServiceLifecycle

/// The admin API on its own listener. Every route needs `Authorization: Bearer <admin.token>`.
public struct AdminAPI: Sendable {
    let runtime: GatewayRuntime
    let config: AdminConfig
    let store: any DataStore
    let callLog: CallLogWriter
    let metrics: GatewayMetrics

    public init(
        runtime: GatewayRuntime, config: AdminConfig, store: any DataStore, callLog: CallLogWriter,
        metrics: GatewayMetrics
    ) {
        self.metrics = metrics
        self.runtime = runtime
        self.config = config
        self.store = store
        self.callLog = callLog
    }

    /// The admin routes, behind the token check: the operations of `openapi.yaml`, registered by
    /// the server code generated from it (`Generated/`), answered by `AdminHandler`.
    func router(logger: Logger) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let runtime = self.runtime
        let startToken = config.token
        // The token is read per request, so a reload can rotate it.
        router.add(middleware: AdminTokenMiddleware { runtime.snapshot.config.admin?.token ?? startToken })
        router.add(middleware: AdminProblemMiddleware(logger: logger))
        router.add(middleware: AdminRequestValidation())
        let handler = AdminHandler(runtime: runtime, store: store, callLog: callLog, metrics: metrics)
        do {
            let coding = Configuration(dateTranscoder: AdminAnswer.dates, jsonEncodingOptions: [.sortedKeys])
            try handler.registerHandlers(on: router, configuration: coding, middlewares: [AdminBodyMiddleware()])
        } catch {
            // Only a path the router cannot hold fails here: the document's paths are fixed at build time and tested.
            preconditionFailure("the admin API's generated routes do not register: \(error)")
        }
        return router
    }

    /// The admin listener as a service.
    public func application(
        logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> some Service
    {
        Application(
            router: router(logger: logger),
            configuration: .init(
                address: .hostname(config.listen.host, port: config.listen.port), serverName: "portico-admin"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("admin listening", metadata: ["listen.address": "\(config.listen.host):\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    static func status(of runtime: GatewayRuntime, callLog: CallLogWriter, store: any DataStore) async -> String {
        let snapshot = runtime.snapshot
        let config = snapshot.config
        let history = runtime.reloadHistory
        var json = "{\"version\":\(JSONText.quote(PorticoVersion.current))"
        json += ",\"node\":{\"id\":\(JSONText.quote(config.node.id))"
        json += ",\"store\":" + (await storeStatus(store)) + "}"
        json += ",\"config_file\":\(JSONText.quote(config.sourceFile))"
        json += ",\"config_hash\":\(JSONText.quote(config.contentHash))"
        json += ",\"loaded_at\":\(JSONText.quote(CallRecord.timestamp(snapshot.loadedAt)))"
        json += ",\"reloads\":{\"succeeded\":\(history.succeeded),\"failed\":\(history.failed)"
        json += ",\"last_trigger\":" + (history.lastTrigger.map(JSONText.quote) ?? "null")
        json += ",\"last_reload_ms\":" + (history.lastDuration.map { String($0.milliseconds) } ?? "null") + "}"
        json += ",\"last_error\":" + (history.lastError.map(JSONText.quote) ?? "null")
        json += ",\"last_error_at\":" + (history.lastErrorAt.map { JSONText.quote(CallRecord.timestamp($0)) } ?? "null")
        json +=
            ",\"apis\":\(config.apis.count),\"routes\":\(snapshot.routes.count),\"upstreams\":\(config.upstreams.count)"
        json +=
            ",\"call_log\":{\"queued\":\(callLog.queuedCount),\"written\":\(callLog.writtenCount),\"dropped\":\(callLog.droppedCount)}"
        let connections = runtime.connections.report
        json += ",\"connections\":{\"open\":\(connections.open),\"max\":\(runtime.connections.maximum)"
        json +=
            ",\"addresses\":\(connections.addresses),\"max_per_ip\":\(runtime.connections.maximumPerAddress),\"refused\":\(connections.refused)}"
        json +=
            ",\"paths\":{\"event_loop\":\(runtime.paths.eventLoop.load(ordering: .relaxed)),\"streaming\":\(runtime.paths.streaming.load(ordering: .relaxed))}"
        json += ",\"limit_store\":" + limitStore(runtime.limits.store)
        // Every table the gateway keeps for clients, with what it holds and its bound.
        let cache = runtime.cache.store.statistics
        var tables: [String] = [
            "\"call_log_queue\":{\"entries\":\(callLog.queuedCount),\"max_entries\":\(callLog.capacity),\"bytes\":\(callLog.queuedBytes),\"max_bytes\":\(callLog.maximumQueuedBytes)}",
            "\"cache\":{\"entries\":\(cache.entries),\"bytes\":\(cache.bytes),\"max_bytes\":\(cache.budget)}",
        ]
        if let limiter = runtime.limits.store as? InMemoryLimiterStore {
            tables.append("\"limiter_keys\":{\"entries\":\(limiter.count),\"max_entries\":\(limiter.maximumKeys)}")
        }
        for table in runtime.auth.tables {
            tables.append("\"\(table.name)\":{\"entries\":\(table.entries),\"max_entries\":\(table.maximum)}")
        }
        json += ",\"tables\":{" + tables.joined(separator: ",") + "}"
        json += "}"
        return json
    }

    /// The store's kind; for PostgreSQL its URL (without the password), whether it answers, and
    /// the peers (nodes on the same database) seen in the last minute.
    static func storeStatus(_ store: any DataStore) async -> String {
        guard let postgres = store as? PostgresStore else { return "{\"kind\":\(JSONText.quote(store.kind))}" }
        var json = "{\"kind\":\"postgres\",\"url\":\(JSONText.quote(postgres.url.description))"
        do {
            let peers = try await postgres.peers(since: Date().addingTimeInterval(-60))
            json += ",\"connected\":true,\"error\":null,\"peers\":["
            json +=
                peers.map {
                    "{\"id\":\(JSONText.quote($0.id)),\"seen\":\(JSONText.quote(CallRecord.timestamp($0.seen)))}"
                }.joined(separator: ",") + "]}"
        } catch {
            json += ",\"connected\":false,\"error\":\(JSONText.quote("\(error)")),\"peers\":[]}"
        }
        return json
    }

    /// Where limits are counted, and for Redis the connections and what failed over.
    static func limitStore(_ store: any LimiterStore) -> String {
        guard let redis = store as? RedisLimiterStore else { return "{\"kind\":\"memory\"}" }
        let status = redis.client.status
        let health = redis.health
        var json = "{\"kind\":\"redis\",\"url\":\(JSONText.quote(redis.client.configuration.url.description))"
        json += ",\"connected\":\(status.connected),\"connections\":\(status.total)"
        json += ",\"protocol\":" + (status.protocolVersion.map { String($0) } ?? "null")
        json +=
            ",\"degraded_since\":" + (health.degradedSince.map { JSONText.quote(CallRecord.timestamp($0)) } ?? "null")
        json += ",\"last_error\":" + ((health.lastError ?? status.lastError).map(JSONText.quote) ?? "null")
        let failures = health.failures
        json +=
            ",\"failed_over\":{"
            + StoreFailureMode.allCases.map { "\"\($0.rawValue)\":\(failures[$0] ?? 0)" }.joined(separator: ",") + "}"
        json += ",\"local_keys\":\(redis.fallback.count)}"
        return json
    }

    /// Each upstream's balancer and breaker, and each target's health, breaker, load and errors.
    static func upstreams(of snapshot: RuntimeSnapshot) -> String {
        let now = ContinuousClock.now
        let pools = snapshot.config.upstreams.compactMap { snapshot.pools[$0.name] }
        let items = pools.map { pool -> String in
            let targets = pool.targets.map { target -> String in
                let report = target.report(now: now)
                var json = "{\"url\":\(JSONText.quote(target.config.origin + target.config.basePath))"
                json +=
                    ",\"weight\":\(target.config.weight),\"healthy\":\(report.healthy),\"ejected\":\(report.ejected)"
                json += ",\"drained\":\(report.drained),\"breaker\":" + (report.breaker.map(JSONText.quote) ?? "null")
                json +=
                    ",\"in_flight\":\(report.inFlight),\"requests\":\(report.requests),\"failures\":\(report.failures)"
                let rate = report.requests == 0 ? 0 : Double(report.failures) / Double(report.requests)
                json += ",\"error_rate\":\(rate)"
                json += ",\"last_latency_ms\":" + (report.lastLatency.map { String($0.milliseconds) } ?? "null") + "}"
                return json
            }
            var json =
                "{\"name\":\(JSONText.quote(pool.config.name)),\"balance\":\(JSONText.quote(pool.config.balance.rawValue))"
            json += ",\"breaker\":" + (pool.breakerStateName.map(JSONText.quote) ?? "null")
            json += ",\"targets\":[" + targets.joined(separator: ",") + "]}"
            return json
        }
        return "{\"upstreams\":[" + items.joined(separator: ",") + "]}"
    }

    /// 422 problem+json listing every config error, so a CI job can show them.
    static func reloadProblem(
        message: String, diagnostics: [ConfigDiagnostic], requestID: String, path: String
    ) -> Response {
        var json = "{\"type\":\"https://portico.dev/problems/invalid-config\",\"title\":\"The config is invalid\""
        json += ",\"status\":422,\"detail\":\"The reload was rejected; the previous config keeps serving.\""
        json += ",\"instance\":\(JSONText.quote(path)),\"request_id\":\(JSONText.quote(requestID))"
        let errors = diagnostics.isEmpty ? [message] : diagnostics.map(\.description)
        json += ",\"errors\":[" + errors.map(JSONText.quote).joined(separator: ",") + "]}"
        return Response(
            status: .unprocessableContent,
            headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(string: json))
        )
    }

    /// An error as the admin API answers it: problem+json carrying the request id.
    static func problem(_ error: GatewayError, _ request: Request, _ context: BasicRequestContext) -> Response {
        error.response(
            requestID: context.id, instance: request.uri.path, requestIDHeader: HTTPField.Name("X-Request-Id")!)
    }
}

/// Refuses admin requests without the configured bearer token, as problem+json.
struct AdminTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: @Sendable () -> String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let presented = request.headers[.authorization].flatMap { value -> Substring? in
            value.hasPrefix("Bearer ") ? value.dropFirst("Bearer ".count) : nil
        }
        // Both sides are hashed first, so the comparison takes the same time whatever the lengths.
        guard let presented,
            APIKey.constantTimeEquals(
                Array(SHA256.hash(data: Array(presented.utf8))), Array(SHA256.hash(data: Array(token().utf8))))
        else {
            return AdminAPI.problem(.unauthorized, request, context)
        }
        return try await next(request, context)
    }
}
