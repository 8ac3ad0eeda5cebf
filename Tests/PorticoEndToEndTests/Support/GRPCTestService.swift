// A gRPC server and client for tests that send gRPC traffic through the gateway (grpc-swift 2).
// Messages are raw bytes ([UInt8]) with hand-written MethodDescriptors and handlers: no protobuf
// and no code generation. The server speaks plaintext HTTP/2 (h2c) on 127.0.0.1.

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

// MARK: - Raw-bytes coding

struct RawBytesSerializer: MessageSerializer {
    typealias Message = [UInt8]

    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

struct RawBytesDeserializer: MessageDeserializer {
    typealias Message = [UInt8]

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

// MARK: - Service

/// `portico.test.Echo`: Unary, Count (server streaming), Fail (unary), Collect (bidirectional).
struct EchoService: RegistrableRPCService {
    static let serviceName = "portico.test.Echo"

    static let unary = MethodDescriptor(fullyQualifiedService: serviceName, method: "Unary", type: .unary)
    static let count = MethodDescriptor(fullyQualifiedService: serviceName, method: "Count", type: .serverStreaming)
    static let fail = MethodDescriptor(fullyQualifiedService: serviceName, method: "Fail", type: .unary)
    static let collect = MethodDescriptor(
        fullyQualifiedService: serviceName, method: "Collect", type: .bidirectionalStreaming)

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let deserializer = RawBytesDeserializer()
        let serializer = RawBytesSerializer()

        // Unary: echo the bytes; report the consumer the gateway named in `x-consumer-name`.
        router.registerHandler(forMethod: Self.unary, deserializer: deserializer, serializer: serializer) {
            request, _ in
            let single = try await ServerRequest(stream: request)
            var metadata: Metadata = [:]
            if let consumer = single.metadata[stringValues: "x-consumer-name"].first(where: { _ in true }) {
                metadata.addString(consumer, forKey: "echo-seen-consumer")
            }
            return StreamingServerResponse(single: ServerResponse(message: single.message, metadata: metadata))
        }

        // Count: the request is ASCII decimal N (1...1000); reply "1", "2", ... "N". With a
        // `count-relay` id in the metadata, each next message waits until the client got the one
        // before (`CountRelay`): a gateway that held a message back would stall the call.
        router.registerHandler(forMethod: Self.count, deserializer: deserializer, serializer: serializer) {
            request, _ in
            let single = try await ServerRequest(stream: request)
            guard let n = Int(String(decoding: single.message, as: UTF8.self)), (1...1000).contains(n) else {
                throw RPCError(code: .invalidArgument, message: "Count wants a decimal number in 1...1000")
            }
            let relay = single.metadata[stringValues: "count-relay"].first(where: { _ in true }).flatMap(
                CountRelay.shared.acks)
            return StreamingServerResponse(of: [UInt8].self) { writer in
                var acks = relay?.makeAsyncIterator()
                for i in 1...n {
                    try await writer.write(Array(String(i).utf8))
                    if i < n, acks != nil, await acks?.next() == nil { break }
                }
                return [:]
            }
        }

        // Fail: always permission denied.
        router.registerHandler(forMethod: Self.fail, deserializer: deserializer, serializer: serializer) {
            _, _ in
            throw RPCError(code: .permissionDenied, message: "no such luck")
        }

        // Collect: answer each request message at once with its ASCII-uppercased bytes.
        router.registerHandler(forMethod: Self.collect, deserializer: deserializer, serializer: serializer) {
            request, _ in
            StreamingServerResponse(of: [UInt8].self) { writer in
                for try await message in request.messages {
                    let upper: [UInt8] = message.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
                    try await writer.write(upper)
                }
                return [:]
            }
        }
    }
}

/// `portico.test.Brittle`: Down always answers UNAVAILABLE, as a failing backend does.
struct BrittleService: RegistrableRPCService {
    static let down = MethodDescriptor(fullyQualifiedService: "portico.test.Brittle", method: "Down", type: .unary)

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.down, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) {
            _, _ in
            throw RPCError(code: .unavailable, message: "backend down")
        }
    }
}

// MARK: - Server and client lifetimes

/// Call options used by the helpers below: a 30 s deadline per call, which a loaded 2-core machine
/// stays well inside (a 10 s one timed out once here with a build beside the suite).
let grpcTestCallOptions: CallOptions = {
    var options = CallOptions.defaults
    options.timeout = .seconds(30)
    return options
}()

/// Runs an `EchoService` server on 127.0.0.1 (port 0, plaintext HTTP/2), hands `body` the bound
/// port, and shuts the server down afterwards, also when `body` throws.
func withGRPCServer(
    security: HTTP2ServerTransport.Posix.TransportSecurity = .plaintext,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Int) async throws -> Void
) async throws {
    let transport = HTTP2ServerTransport.Posix(
        address: .ipv4(host: "127.0.0.1", port: 0),
        transportSecurity: security,
        // Bound the graceful shutdown so a peer (the gateway's pool) holding a stream can't hang it.
        config: .defaults { $0.connection.maxGraceTime = .seconds(2) }
    )
    let server = GRPCServer(transport: transport, services: [EchoService(), BrittleService()])
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        defer { server.beginGracefulShutdown() }
        guard let port = try await transport.listeningAddress.ipv4?.port else {
            throw RPCError(code: .internalError, message: "gRPC test server has no IPv4 listening address")
        }
        try await body(port)
    }
}

/// Connects a plaintext HTTP/2 client to 127.0.0.1:`port`, runs its connections while `body`
/// runs, then shuts it down. Every call gets a default 30 s timeout from the service config.
func withGRPCClient(
    port: Int,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Void
) async throws {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port),
        transportSecurity: .plaintext,
        serviceConfig: ServiceConfig(methodConfig: [
            MethodConfig(names: [MethodConfig.Name(service: "")], timeout: .seconds(30))
        ])
    )
    let client = GRPCClient(transport: transport)
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await client.runConnections() }
        defer { client.beginGracefulShutdown() }
        try await body(client)
    }
}

// MARK: - Call helpers

/// Unary echo: returns the reply text and the response's initial metadata.
func unaryEcho(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>,
    _ text: String,
    metadata: Metadata = [:]
) async throws -> (String, Metadata) {
    try await client.unary(
        request: ClientRequest(message: Array(text.utf8), metadata: metadata),
        descriptor: EchoService.unary,
        serializer: RawBytesSerializer(),
        deserializer: RawBytesDeserializer(),
        options: grpcTestCallOptions
    ) { response in
        let text = try String(decoding: response.message, as: UTF8.self)
        return (text, response.metadata)
    }
}

/// The client's receipts for `Count` calls in this process, by the call's `count-relay` id.
final class CountRelay: Sendable {
    static let shared = CountRelay()
    private let waiting = Mutex<[String: AsyncStream<Void>]>([:])

    /// A new id, and the continuation through which the client acknowledges each message.
    func open() -> (String, AsyncStream<Void>.Continuation) {
        let id = UUID().uuidString
        let (acks, continuation) = AsyncStream<Void>.makeStream()
        waiting.withLock { $0[id] = acks }
        return (id, continuation)
    }

    /// The acknowledgements of the call `id` (the server takes them once).
    func acks(_ id: String) -> AsyncStream<Void>? {
        waiting.withLock { $0.removeValue(forKey: id) }
    }
}

/// Server streaming: every message of Count(n) with the instant it arrived. Each next message
/// leaves the server only once the one before has reached this client.
func countStream(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>,
    _ n: Int,
    metadata: Metadata = [:]
) async throws -> [(String, ContinuousClock.Instant)] {
    let (relay, ack) = CountRelay.shared.open()
    defer { ack.finish() }
    var metadata = metadata
    metadata.addString(relay, forKey: "count-relay")
    return try await client.serverStreaming(
        request: ClientRequest(message: Array(String(n).utf8), metadata: metadata),
        descriptor: EchoService.count,
        serializer: RawBytesSerializer(),
        deserializer: RawBytesDeserializer(),
        options: grpcTestCallOptions
    ) { response in
        var received: [(String, ContinuousClock.Instant)] = []
        for try await message in response.messages {
            received.append((String(decoding: message, as: UTF8.self), ContinuousClock.now))
            ack.yield()
        }
        return received
    }
}

/// A unary call of `descriptor` with an empty message and `metadata`; throws its `RPCError`.
func unaryCall(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ descriptor: MethodDescriptor, metadata: Metadata = [:]
) async throws {
    try await client.unary(
        request: ClientRequest(message: [UInt8](), metadata: metadata),
        descriptor: descriptor,
        serializer: RawBytesSerializer(),
        deserializer: RawBytesDeserializer(),
        options: grpcTestCallOptions
    ) { response in
        _ = try response.message
    }
}

/// Bidirectional: sends one word, waits for its reply, then sends the next; returns the replies.
func collect(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ words: [String], metadata: Metadata = [:]
) async throws -> [String] {
    let (replied, signal) = AsyncStream<Void>.makeStream()
    let request = StreamingClientRequest(of: [UInt8].self, metadata: metadata) { writer in
        var replies = replied.makeAsyncIterator()
        for word in words {
            try await writer.write(Array(word.utf8))
            guard await replies.next() != nil else { return }  // the response ended early
        }
    }
    return try await client.bidirectionalStreaming(
        request: request,
        descriptor: EchoService.collect,
        serializer: RawBytesSerializer(),
        deserializer: RawBytesDeserializer(),
        options: grpcTestCallOptions
    ) { response in
        defer { signal.finish() }
        var received: [String] = []
        for try await message in response.messages {
            received.append(String(decoding: message, as: UTF8.self))
            signal.yield()
        }
        return received
    }
}
