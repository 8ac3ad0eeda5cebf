internal import Foundation
internal import OpenAPIRuntime
import PorticoConfig
import PorticoGateway
import PorticoOpenAPIServer
import PorticoStore

/// The admin API's operations, as `openapi.yaml` declares them: the generated server decodes and
/// checks each request (path, query and body) before it gets here, and encodes each answer from
/// its generated type. An operation refuses a request by throwing a `GatewayError`, which
/// `AdminProblemMiddleware` answers as problem+json.
struct AdminHandler: APIProtocol {
    let runtime: GatewayRuntime
    let store: any DataStore
    let callLog: CallLogWriter
    let metrics: GatewayMetrics

    func getStatus(_ input: Operations.GetStatus.Input) async throws -> Operations.GetStatus.Output {
        .ok(.init(body: .json(await status())))
    }

    func reload(_ input: Operations.Reload.Input) async throws -> Operations.Reload.Output {
        switch await runtime.reload(trigger: "admin") {
        case .applied(let hash, let duration):
            return .ok(.init(body: .json(.init(result: .applied, configHash: hash, reloadMs: duration.milliseconds))))
        case .unchanged(let hash):
            return .ok(.init(body: .json(.init(result: .unchanged, configHash: hash))))
        case .failed(let message, let diagnostics):
            throw ReloadRejected(message: message, diagnostics: diagnostics)
        }
    }

    func listRoutes(_ input: Operations.ListRoutes.Input) async throws -> Operations.ListRoutes.Output {
        .ok(.init(body: .json(routes())))
    }

    func listUpstreams(_ input: Operations.ListUpstreams.Input) async throws -> Operations.ListUpstreams.Output {
        .ok(.init(body: .json(upstreams())))
    }

    func drainTarget(_ input: Operations.DrainTarget.Input) async throws -> Operations.DrainTarget.Output {
        try setDrained(true, upstream: input.path.upstream, index: input.path.index)
        return .ok(.init(body: .json(upstreams())))
    }

    func undrainTarget(_ input: Operations.UndrainTarget.Input) async throws -> Operations.UndrainTarget.Output {
        try setDrained(false, upstream: input.path.upstream, index: input.path.index)
        return .ok(.init(body: .json(upstreams())))
    }

    private func setDrained(_ drained: Bool, upstream: String, index: Int64) throws {
        guard let pool = runtime.snapshot.pools[upstream], let index = Int(exactly: index),
            pool.targets.indices.contains(index)
        else {
            throw GatewayError.notFound("No upstream '\(upstream)' with a target \(index).")
        }
        pool.targets[index].setDrained(drained)
    }

    func metrics(_ input: Operations.Metrics.Input) async throws -> Operations.Metrics.Output {
        .ok(.init(body: .textPlainVersion_0_0_4(HTTPBody(metrics.exposition(runtime: runtime, callLog: callLog)))))
    }

    func openapi(_ input: Operations.Openapi.Input) async throws -> Operations.Openapi.Output {
        .ok(.init(body: .json(ServedDocument.admin.object)))
    }
}
