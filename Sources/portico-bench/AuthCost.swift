import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PorticoConfig
import PorticoGateway

/// The CPU cost of the auth policy, measured in-process: the gateway's own request path
/// (route match, policy chain, mock answer) in a loop, for each of bench/auth.sh's APIs.
///
/// End to end, a request costs about 40 µs of CPU on a 2-core machine and that figure drifts by
/// several µs between runs, far more than an API-key check costs; in-process the same code runs
/// without the network and the drift is a fraction of a µs. The APIs are interleaved round after
/// round, and the figure is the median over rounds of CPU time (getrusage) per request.
enum AuthCost {
    static let apis = ["none", "key", "rs256", "es256"]

    static func run(config path: String, rounds: Int, iterations: Int) async throws {
        let config = try ConfigLoader().load(file: path)
        var logger = Logger(label: "portico.bench")
        logger.logLevel = .error
        let runtime = GatewayRuntime(config: config, logger: logger)
        let snapshot = runtime.snapshot
        let folder = (path as NSString).deletingLastPathComponent
        var requests: [String: Request] = [:]
        for api in apis {
            var fields = HTTPFields()
            fields[.userAgent] = "portico-bench"
            switch api {
            case "none": break
            case "key": fields[HTTPField.Name("X-API-Key")!] = "bench-api-key-0123456789abcdef"
            default:
                let token = try String(contentsOfFile: "\(folder)/\(api).token", encoding: .utf8)
                fields[.authorization] = "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let head = HTTPRequest(
                method: .get, scheme: "http", authority: "127.0.0.1", path: "/\(api)/pets/1", headerFields: fields)
            requests[api] = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
            // Each must be answered with 200 before it is measured.
            let served = await snapshot.respond(
                to: requests[api]!, requestID: "bench", clientAddress: nil, start: .now, logger: logger)
            guard served.response.status == .ok else {
                throw BenchError("/\(api) answered \(served.response.status.code)")
            }
        }
        var perRequest: [String: [Double]] = [:]
        for _ in 0..<rounds {
            for api in apis {
                let request = requests[api]!
                let before = cpuSeconds()
                for _ in 0..<iterations {
                    _ = await snapshot.respond(
                        to: request, requestID: "bench", clientAddress: nil, start: .now, logger: logger)
                }
                perRequest[api, default: []].append((cpuSeconds() - before) / Double(iterations) * 1e6)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let base = median(perRequest["none"]!)
        print("in-process, \(rounds) rounds x \(iterations) requests per API")
        print("auth      cpu us/req  added us  target")
        for (api, target) in zip(apis, ["", "<= 2", "<= 20", "<= 20"]) {
            let value = median(perRequest[api]!)
            let name = api.padding(toLength: 8, withPad: " ", startingAt: 0)
            print(name + String(format: " %11.2f %9.2f  ", value, value - base) + target)
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
