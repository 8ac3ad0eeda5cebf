import Foundation
import HTTPTypes
import Logging
import NIOCore
import PorticoConfig
import PorticoGateway

/// The CPU cost of the edge policies, for bench/edge.sh, measured in-process on the event-loop
/// path's own per-request policy work (`FastStart`: guard, route match, the route's fast policies,
/// the upstream head, the response phase), with no network leg; the added cost of a policy is its
/// route's figure less the plain route's. And response compression's throughput per core.
enum EdgeCost {
    static let routes: [(name: String, path: String, headers: HTTPFields, peer: String)] = [
        ("plain", "/plain/items/1", [:], "10.1.2.3"),
        ("cors", "/cors/items/1", [HTTPField.Name("Origin")!: "https://app.example.com"], "10.1.2.3"),
        ("cors-exact", "/cors/items/1", [HTTPField.Name("Origin")!: "https://shop.example.com"], "10.1.2.3"),
        (
            "cors-preflight", "/cors/items/1",
            [
                HTTPField.Name("Origin")!: "https://app.example.com",
                HTTPField.Name("Access-Control-Request-Method")!: "PUT",
                HTTPField.Name("Access-Control-Request-Headers")!: "content-type, x-api-key",
            ], "10.1.2.3"
        ),
        ("ip", "/ip/items/1", [:], "10.1.2.3"),
        ("transform", "/transform/items/1", [HTTPField.Name("X-Debug")!: "1"], "10.1.2.3"),
        // The plain route again, last in each round: how much the order itself moves a figure.
        ("plain-again", "/plain/items/1", [:], "10.1.2.3"),
    ]

    static func run(config path: String, rounds: Int, iterations: Int) throws {
        let config = try ConfigLoader().load(file: path)
        var logger = Logger(label: "portico.bench")
        logger.logLevel = .error
        let runtime = GatewayRuntime(config: config, logger: logger)
        let snapshot = runtime.snapshot
        let target = config.upstreams[0].targets[0]
        let upstream = HTTPResponse(
            status: .ok, headerFields: [.contentType: "application/json", .contentLength: "100", .server: "bench"])
        var requests: [String: HTTPRequest] = [:]
        for route in routes {
            var fields = route.headers
            fields[.userAgent] = "portico-bench"
            let method: HTTPRequest.Method = route.name == "cors-preflight" ? .options : .get
            requests[route.name] = HTTPRequest(
                method: method, scheme: "http", authority: "127.0.0.1", path: route.path, headerFields: fields)
            guard
                let started = FastStart.start(
                    requests[route.name]!, snapshot: snapshot, peer: route.peer, at: .now, requestID: { _ in "bench" })
            else { throw BenchError("\(route.path) is not served by the event-loop path") }
            guard started.refusal == nil else { throw BenchError("\(route.path) was refused") }
            if route.name == "cors-preflight" {
                guard started.answer?.status == .noContent else { throw BenchError("the preflight was not answered") }
            }
        }
        var perRequest: [String: [Double]] = [:]
        for _ in 0..<rounds {
            for route in routes {
                let request = requests[route.name]!
                let before = AuthCost.cpuSeconds()
                for _ in 0..<iterations {
                    guard
                        let started = FastStart.start(
                            request, snapshot: snapshot, peer: route.peer, at: .now, requestID: { _ in "bench" })
                    else { continue }
                    if started.answer == nil {
                        _ = started.upstreamHead(for: target)
                        _ = started.respond(to: upstream)
                    }
                    started.exchange.finish()
                }
                perRequest[route.name, default: []].append((AuthCost.cpuSeconds() - before) / Double(iterations) * 1e6)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let base = median(perRequest["plain"]!)
        print(
            "in-process event-loop path work, \(rounds) rounds x \(iterations) requests per route; median CPU µs per request"
        )
        print("route            cpu us/req  added us  target")
        for route in routes {
            let value = median(perRequest[route.name]!)
            let target = ["cors", "cors-exact", "ip", "transform"].contains(route.name) ? "<= 1" : ""
            print(
                route.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(format: " %10.2f %9.2f  ", value, value - base) + target)
        }
        try policiesAlone(snapshot: snapshot, requests: requests, rounds: rounds, iterations: iterations * 5)
        try compression()
    }

    /// Each edge policy's own request and response phases on a prepared request, without the
    /// rest of the path: a figure that the machine's noise moves by far less than the path's.
    /// The heads are copied and made unique first, as the proxy's own edits have made them by
    /// the time a policy runs; that copy is measured alone and subtracted. The figure is the
    /// fastest round's: on a shared machine the slower rounds measure the neighbours.
    static func policiesAlone(
        snapshot: RuntimeSnapshot, requests: [String: HTTPRequest], rounds: Int, iterations: Int
    ) throws {
        let upstream = HTTPResponse(
            status: .ok, headerFields: [.contentType: "application/json", .contentLength: "100", .server: "bench"])
        print(
            "policy alone (admit + respond), \(rounds) rounds x \(iterations); fastest round's CPU ns per request, less the heads' copy"
        )
        print("policy           cpu ns/req  target")
        var baseline: Double = 0
        for name in ["copy", "cors", "cors-exact", "cors-preflight", "ip", "transform"] {
            let request = requests[name == "copy" ? "plain" : name]!
            let peer = "10.1.2.3"
            guard
                let started = FastStart.start(
                    request, snapshot: snapshot, peer: peer, at: .now, requestID: { _ in "bench" }),
                let policies = started.route.chain.fast?.policies, !policies.isEmpty || name == "copy"
            else { throw BenchError("no fast policies on \(name)") }
            let exchange = started.exchange
            var samples: [Double] = []
            for _ in 0..<rounds {
                let before = AuthCost.cpuSeconds()
                for _ in 0..<iterations {
                    var head = request
                    head.headerFields.reserveCapacity(16)
                    for policy in policies { _ = policy.admit(&head, exchange: exchange) }
                    var answer = upstream
                    answer.headerFields.reserveCapacity(16)
                    for policy in policies.reversed() { policy.respond(&answer, exchange: exchange) }
                }
                samples.append((AuthCost.cpuSeconds() - before) / Double(iterations) * 1e9)
            }
            // The fastest round: the one least disturbed by whatever else the machine runs.
            let value = samples.min()!
            if name == "copy" {
                baseline = value
                print("copy (subtracted)" + String(format: " %9.0f", value))
                continue
            }
            let target = name == "cors-preflight" ? "" : "<= 1000"
            print(
                name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %10.0f  ", value - baseline)
                    + target)
        }
    }

    /// MB of a JSON body compressed per CPU second, in 16 KiB writes as a proxied body arrives.
    static func compression() throws {
        var sample = "["
        var index = 0
        while sample.utf8.count < 1 << 20 {
            sample +=
                "{\"id\":\(index),\"name\":\"item \(index)\",\"price\":\(Double(index % 997) / 7),\"tags\":[\"a\",\"b\(index % 13)\"],\"active\":\(index % 2 == 0)},"
            index += 1
        }
        sample += "{}]"
        let body = ByteBuffer(string: sample)
        let chunk = 16 * 1024
        print("compression      level  MB/s per core  ratio")
        for (coding, level) in [(ContentCoding.gzip, 1), (.gzip, 6), (.deflate, 6)] {
            var input = 0
            var output = 0
            let before = AuthCost.cpuSeconds()
            for _ in 0..<32 {
                let compressor = try StreamingCompressor(
                    coding: coding, level: level, expectedLength: body.readableBytes)
                var offset = 0
                while offset < body.readableBytes {
                    let length = min(chunk, body.readableBytes - offset)
                    output += try compressor.compress(body.getSlice(at: offset, length: length)!).readableBytes
                    offset += length
                }
                output += try compressor.finish().readableBytes
                input += body.readableBytes
            }
            let seconds = AuthCost.cpuSeconds() - before
            print(
                coding.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5d %14.0f  %5.2f", level, Double(input) / 1e6 / seconds,
                        Double(input) / Double(output)))
        }
    }
}
