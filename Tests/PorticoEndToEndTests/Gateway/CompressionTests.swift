import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import PorticoTesting
import Testing

@testable import PorticoGateway

/// Response compression and compressed request bodies through a whole gateway and a real upstream.
@Suite("Compression")
struct CompressionTests {
    static func yaml(upstreamPort: Int) -> String {
        """
        \(upstreamYAML(port: upstreamPort))
        apis:
          - name: zipped
            base-path: /z
            upstream: backend
            compress: {types: [application/json, text/*], min-size: 0}
          - name: thresholded
            base-path: /big
            upstream: backend
            compress: {min-size: 10KiB}
          - name: cached
            base-path: /c
            upstream: backend
            compress: {min-size: 0}
            cache: {default-ttl: 1m}
          - name: edited
            base-path: /e
            upstream: backend
            request-transform:
              body: {remove: [/secret], max-size: 64KiB}
        """
    }

    static func gzip(_ text: String) throws -> ByteBuffer {
        var input = ByteBuffer(string: text)
        return try input.compress(with: .gzip())
    }

    @Test("gzip and deflate by Accept-Encoding and q-values, decoded by a real client; Vary and validators follow")
    func negotiation() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { raw in
                    try await withClient(baseURL: gateway.baseURL, decompressing: true) { decoding in
                        let cases: [(accept: String?, coding: String?)] = [
                            ("gzip", "gzip"), ("deflate", "deflate"), ("gzip;q=0.5, deflate", "deflate"),
                            ("gzip;q=0, deflate;q=0", nil),
                            ("identity", nil), ("*;q=0.5", "gzip"), ("br", nil), ("x-gzip", "gzip"),
                            ("gzip;q=1.5", nil),
                            ("GZIP;Q=0.8, deflate;q=0.7", "gzip"), (nil, nil),
                        ]
                        for (accept, coding) in cases {
                            let headers = accept.map { [("Accept-Encoding", $0)] } ?? []
                            let answer = try await raw.send(.GET, "/z/echo/item?x=1", headers: headers)
                            #expect(answer.status == 200)
                            #expect(answer.headers["Content-Encoding"].first == coding, "\(accept ?? "none")")
                            #expect(answer.headers["Vary"].contains { $0.contains("Accept-Encoding") })
                            if coding != nil {
                                #expect(answer.headers["Content-Length"].isEmpty)
                                let decoded = try await decoding.send(.GET, "/z/echo/item?x=1", headers: headers)
                                #expect(try decoded.json()["uri"] as? String == "/echo/item?x=1", "\(accept ?? "")")
                            } else {
                                #expect(try answer.json()["method"] as? String == "GET")
                            }
                        }
                        // The upstream was asked for the chosen coding only.
                        let asked = try await decoding.send(
                            .GET, "/z/echo/a", headers: [("Accept-Encoding", "br, gzip;q=0.9, deflate;q=0.1")])
                        let echoed = try echoedHeaders(asked)
                        #expect(echoed["accept-encoding"] == ["gzip"])
                    }
                }
            }
        }
    }

    @Test(
        "never for small bodies, no-transform, other types, bodies already encoded; streams of unknown length are compressed as they come"
    )
    func exclusions() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let gzip = [("Accept-Encoding", "gzip")]
                    let small = try await client.send(.GET, "/big/echo/a", headers: gzip)
                    #expect(small.headers["Content-Encoding"].isEmpty)
                    #expect(small.headers["Vary"].contains { $0.contains("Accept-Encoding") })
                    let noTransform = try await client.send(
                        .GET, "/z/respond?Cache-Control=no-transform", headers: gzip)
                    #expect(noTransform.headers["Content-Encoding"].isEmpty)
                    #expect(noTransform.text == "ok")
                    let binary = try await client.send(.GET, "/z/download/5000", headers: gzip)
                    #expect(binary.headers["Content-Encoding"].isEmpty)
                    #expect(binary.body.readableBytes == 5000)
                    let encoded = try await client.send(.GET, "/z/respond?Content-Encoding=br", headers: gzip)
                    #expect(encoded.headers["Content-Encoding"] == ["br"])
                    #expect(encoded.text == "ok")

                    let stream = try await client.send(.GET, "/z/stream/2000", headers: gzip)
                    #expect(stream.headers["Content-Encoding"] == ["gzip"])
                    var body = stream.body
                    let plain = try body.decompress(with: .gzip())
                    #expect(String(buffer: plain).hasPrefix("part-0\npart-1\n"))
                    #expect(String(buffer: plain).hasSuffix("part-1999\n"))
                    #expect(
                        stream.body.readableBytes * 4 < plain.readableBytes,
                        "\(stream.body.readableBytes) of \(plain.readableBytes)")
                }
            }
        }
    }

    @Test("the cache keeps one variant per coding")
    func cacheVariants() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let expected: [(String, String?, String)] = [
                        ("gzip, deflate, br", "gzip", "miss"), ("gzip", "gzip", "hit"),
                        ("gzip;q=0.9, deflate;q=0.5, br", "gzip", "hit"),
                        ("identity", nil, "miss"), ("", nil, "hit"), ("deflate", "deflate", "miss"),
                        ("deflate", "deflate", "hit"),
                    ]
                    for (accept, coding, status) in expected {
                        let answer = try await client.send(
                            .GET, "/c/echo/cached", headers: [("Accept-Encoding", accept)])
                        #expect(answer.headers["Content-Encoding"].first == coding, "\(accept)")
                        let cacheStatus = answer.headers["Cache-Status"].first ?? ""
                        #expect(cacheStatus.contains(status == "hit" ? "hit" : "fwd="), "\(accept): \(cacheStatus)")
                    }
                }
            }
        }
    }

    @Test("a gzip JSON request body is decompressed to be edited; a zip bomb gets 413")
    func compressedRequests() async throws {
        try await withUpstream { port in
            try await GatewayHarness.with(yaml: Self.yaml(upstreamPort: port)) { gateway in
                try await withClient(baseURL: gateway.baseURL) { client in
                    let json = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
                    let edited = try await client.send(
                        .POST, "/e/echo/x", headers: json, body: .bytes(try Self.gzip(#"{"a":1,"secret":"s"}"#)))
                    #expect(edited.status == 200)
                    #expect(try edited.json()["body"] as? String == #"{"a":1}"#)
                    let bomb = try Self.gzip("[" + String(repeating: " ", count: 4 << 20) + "]")
                    #expect(bomb.readableBytes < 16 * 1024)
                    let refused = try await client.send(.POST, "/e/echo/x", headers: json, body: .bytes(bomb))
                    #expect(refused.status == 413)
                    let broken = try await client.send(
                        .POST, "/e/echo/x", headers: json, body: .bytes(ByteBuffer(string: "not gzip")))
                    #expect(broken.status == 400)
                }
            }
        }
    }
}

@Suite("Accept-Encoding negotiation")
struct ContentCodingTests {
    @Test("q-values as RFC 9110 writes them, and nothing else")
    func qualities() {
        let valid: [(String, Int)] = [
            ("0", 0), ("1", 1000), ("0.5", 500), ("0.123", 123), ("1.000", 1000), ("1.", 1000), ("0.", 0),
        ]
        for (text, value) in valid { #expect(ContentCoding.quality(text) == value, "\(text)") }
        for text in ["1.001", "2", "0.1234", "-1", "0,5", "", "1e0", " 1", "0.5x"] {
            #expect(ContentCoding.quality(text) == nil, "\(text)")
        }
    }

    @Test("the highest q-value wins, ties go to the gateway's order, * covers what is not named")
    func choice() {
        let offered: [ContentCoding] = [.gzip, .deflate]
        #expect(ContentCoding.negotiate(["deflate, gzip"], offered: offered) == .gzip)
        #expect(ContentCoding.negotiate(["deflate, gzip"], offered: [.deflate, .gzip]) == .deflate)
        #expect(ContentCoding.negotiate(["gzip;q=0.2", "deflate;q=0.3"], offered: offered) == .deflate)
        #expect(ContentCoding.negotiate(["gzip;q=0, *"], offered: offered) == .deflate)
        #expect(ContentCoding.negotiate(["*;q=0"], offered: offered) == nil)
        #expect(ContentCoding.negotiate(["gzip;q=bad, deflate;q=0.1"], offered: offered) == .deflate)
        #expect(ContentCoding.negotiate([String(repeating: "gzip;q=0,", count: 10_000)], offered: offered) == nil)
    }
}
