import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PorticoRedis
import PorticoTesting
import Testing

@Suite("The Redis client: RESP, URLs, back-off")
struct RESPTests {
    func read(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        return try RESPDecoder.read(from: &buffer)
    }

    @Test("RESP2 and RESP3 replies decode; a reply cut short waits for more and consumes nothing")
    func decoding() throws {
        #expect(try read("+OK\r\n") == .simpleString("OK"))
        #expect(try read("-NOSCRIPT No matching script\r\n") == .error("NOSCRIPT No matching script"))
        #expect(try read(":-42\r\n") == .integer(-42))
        #expect(try read("$5\r\nhe\r\no\r\n") == .blobString(Array("he\r\no".utf8)))
        #expect(try read("$-1\r\n") == .null)
        #expect(try read("*-1\r\n") == .null)
        #expect(try read("_\r\n") == .null)
        #expect(try read("#t\r\n") == .boolean(true))
        #expect(try read(",3.25\r\n") == .double(3.25))
        #expect(try read(",-inf\r\n") == .double(-.infinity))
        #expect(
            try read("(3492890328409238509324850943850943825024385\r\n")
                == .bigNumber("3492890328409238509324850943850943825024385"))
        #expect(try read("!21\r\nSYNTAX invalid syntax\r\n") == .error("SYNTAX invalid syntax"))
        #expect(try read("=15\r\ntxt:Some string\r\n") == .verbatimString("txt:Some string"))
        #expect(try read("*2\r\n:1\r\n*1\r\n$1\r\nx\r\n") == .array([.integer(1), .array([.blobString([120])])]))
        #expect(try read("~1\r\n+a\r\n") == .set([.simpleString("a")]))
        #expect(
            try read("%1\r\n+server\r\n+redis\r\n")
                == .map([.init(key: .simpleString("server"), value: .simpleString("redis"))]))
        #expect(try read(">2\r\n+message\r\n+hi\r\n") == .push([.simpleString("message"), .simpleString("hi")]))
        // An attribute is dropped; the value after it is the reply.
        #expect(try read("|1\r\n+ttl\r\n:3600\r\n:7\r\n") == .integer(7))

        for cut in ["", "+O", "+OK\r", "$5\r\nhel", "*2\r\n:1\r\n", "%1\r\n+k\r\n"] {
            var buffer = ByteBuffer(string: cut)
            #expect(try RESPDecoder.read(from: &buffer) == nil, "\(cut.debugDescription)")
            #expect(buffer.readableBytes == cut.utf8.count)
        }
        var two = ByteBuffer(string: ":1\r\n:2\r\n")
        #expect(try RESPDecoder.read(from: &two) == .integer(1))
        #expect(try RESPDecoder.read(from: &two) == .integer(2))
        #expect(two.readableBytes == 0)
    }

    @Test("a hostile server's sizes are refused before anything is allocated for them")
    func bounds() throws {
        var limits = RESPDecoder.Limits()
        limits.maximumBlobBytes = 1024
        limits.maximumElements = 100
        limits.maximumDepth = 8
        limits.maximumLineBytes = 64
        for hostile in [
            "$1025\r\n", "$99999999999999999999\r\n", "*101\r\n", "%51\r\n", "$-2\r\n",
            String(repeating: "*1\r\n", count: 10) + ":1\r\n", "+" + String(repeating: "a", count: 100), "?what\r\n",
            ":12a\r\n", "#x\r\n",
            "$3\r\nabcXY",
        ] {
            var buffer = ByteBuffer(string: hostile)
            #expect(throws: RedisError.self, "\(hostile.prefix(30).debugDescription)") {
                try RESPDecoder.read(from: &buffer, limits: limits)
            }
        }
    }

    @Test("commands encode as arrays of blob strings, bytes as they are")
    func encoding() {
        let command = RESPCommand([Array("SET".utf8), [0, 13, 10, 255]])
        #expect(
            command.bytes == ByteBuffer(bytes: Array("*2\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0, 13, 10, 255] + [13, 10]))
        #expect(command.name == "SET")
    }

    @Test("URLs: credentials, escapes, IPv6, database, TLS; mistakes are named")
    func urls() throws {
        let plain = try RedisURL(parsing: "redis://127.0.0.1")
        #expect(
            plain.host == "127.0.0.1" && plain.port == 6379 && plain.database == 0 && !plain.tls
                && plain.password == nil)
        let full = try RedisURL(parsing: "rediss://gateway:p%40ss%3Aword@redis.internal:6380/3")
        #expect(
            full.user == "gateway" && full.password == "p@ss:word" && full.host == "redis.internal" && full.port == 6380
        )
        #expect(full.database == 3 && full.tls)
        #expect(full.description == "rediss://gateway:***@redis.internal:6380/3")
        let passwordOnly = try RedisURL(parsing: "redis://:secret@localhost:7000/0")
        #expect(
            passwordOnly.user == nil && passwordOnly.password == "secret"
                && passwordOnly.description == "redis://:***@localhost:7000/0")
        let six = try RedisURL(parsing: "redis://[::1]:6390")
        #expect(six.host == "::1" && six.port == 6390 && six.description == "redis://[::1]:6390/0")
        for bad in [
            "http://x", "redis://", "redis://host:0", "redis://host:70000", "redis://host/abc", "redis://a:%zz@host",
            "redis://[::1",
        ] {
            #expect(throws: RedisError.self, "\(bad)") { try RedisURL(parsing: bad) }
        }
    }

    @Test("reconnecting backs off 100 ms, 200, 400 … up to the maximum, and starts over once connected")
    func backoff() {
        var state = ReconnectState(minimumDelay: .milliseconds(100), maximumDelay: .seconds(1))
        let now = ContinuousClock.now
        #expect(state.start() == .connect)
        #expect(state.start() == ReconnectState.Action.none)
        let delays = (0..<6).map { _ -> ReconnectState.Action in
            let action = state.lost(now: now)
            #expect(state.retry() == .connect)
            return action
        }
        #expect(
            delays == [100, 200, 400, 800, 1000, 1000].map { ReconnectState.Action.connectAfter(.milliseconds($0)) })
        state.connected()
        // A connection that was up and closed is retried after the shortest wait.
        #expect(state.lost(now: now) == .connectAfter(.milliseconds(100)))
        #expect(state.state == .waiting(until: now + .milliseconds(100), failures: 0))
        #expect(state.retry() == .connect)
        #expect(state.lost(now: now) == .connectAfter(.milliseconds(100)))
        state.shutDown()
        #expect(state.retry() == ReconnectState.Action.none)
        #expect(state.lost(now: now) == ReconnectState.Action.none)
    }
}

@Suite("The Redis client against a real redis-server", .serialized)
struct RedisClientTests {
    static func client(
        _ url: String, timeout: TimeAmount = .milliseconds(500), connections: Int = 1
    ) throws -> RedisClient {
        var configuration = RedisClient.Configuration(url: try RedisURL(parsing: url))
        configuration.commandTimeout = timeout
        configuration.connectionsPerLoop = connections
        configuration.minimumReconnectDelay = .milliseconds(50)
        configuration.maximumReconnectDelay = .milliseconds(400)
        var logger = Logger(label: "redis.test")
        logger.logLevel = .critical
        let client = try RedisClient(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        client.start()
        return client
    }

    /// Waits until every connection of `client` is up (at most 5 s).
    static func connected(_ client: RedisClient) async throws {
        for _ in 0..<250 {
            let status = client.status
            if status.connected == status.total { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisError.unavailable("the client did not connect: \(client.status)")
    }

    @Test("RESP3 sign-in; binary values; a thousand pipelined commands answered in order")
    func commands() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        let client = try Self.client(server.url, connections: 2)
        defer { client.shutdown() }
        try await Self.connected(client)
        #expect(client.status.protocolVersion == 3)
        #expect(client.status.total == 2 * MultiThreadedEventLoopGroup.singleton.makeIterator().map { _ in 1 }.count)

        let bytes: [UInt8] = [0, 13, 10, 255, 36, 42]
        _ = try await client.send(RESPCommand([Array("SET".utf8), Array("bin".utf8), bytes])).get()
        #expect(try await client.send(RESPCommand([Array("GET".utf8), Array("bin".utf8)])).get() == .blobString(bytes))
        #expect(try await client.send(["GET", "missing"]) == .null)
        // RESP3 answers HELLO with a map that says so.
        guard case .map(let hello) = try await client.send(["HELLO"]) else {
            throw RedisError.protocolViolation("HELLO did not answer a map")
        }
        #expect(hello.contains { $0.key.string == "proto" && $0.value == .integer(3) })

        // Every INCR is in flight at once; each gets a distinct count, and the last is 1000.
        let futures = (0..<1000).map { _ in client.send(RESPCommand(["INCR", "counter"])) }
        var seen = Set<Int64>()
        for future in futures { seen.insert(try await future.get().int64 ?? -1) }
        #expect(seen == Set(1...1000))

        await #expect(throws: RedisError.self) { try await client.send(["NOSUCHCOMMAND"]) }
        let error = await #expect(throws: RedisError.self) { try await client.send(["INCR", "bin"]) }
        #expect(error?.serverMessage?.hasPrefix("ERR") == true)
    }

    @Test("a password, an ACL user, a wrong password; RESP2 where the server has no HELLO")
    func signIn() async throws {
        let server = try await RedisServer(arguments: ["--requirepass", "s3cret", "--rename-command", "HELLO", ""])
        defer { server.close() }
        let resp2 = try Self.client("redis://:s3cret@127.0.0.1:\(server.port)/2")
        defer { resp2.shutdown() }
        try await Self.connected(resp2)
        #expect(resp2.status.protocolVersion == 2)
        _ = try await resp2.send(["SET", "where", "db2"])
        #expect(try await resp2.send(["GET", "where"]).string == "db2")
        _ = try await resp2.send(["ACL", "SETUSER", "gateway", "on", ">gw-pass", "~*", "+@all"])

        let user = try Self.client("redis://gateway:gw-pass@127.0.0.1:\(server.port)/2")
        defer { user.shutdown() }
        try await Self.connected(user)
        #expect(try await user.send(["GET", "where"]).string == "db2")

        let wrong = try Self.client("redis://:nope@127.0.0.1:\(server.port)")
        defer { wrong.shutdown() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(wrong.status.connected == 0)
        #expect(wrong.status.lastError?.contains("WRONGPASS") == true, "\(wrong.status)")
        let refused = await #expect(throws: RedisError.self) { try await wrong.send(["PING"]) }
        #expect("\(refused.map { "\($0)" } ?? "")".contains("unavailable"))
    }

    @Test("rediss:// with a private CA and the host name checked; a certificate for another name is refused")
    func tls() async throws {
        let folder = try GatewayHarness.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try TLSListenerTests.makeCA(in: folder)
        try TLSListenerTests.makeCertificate("redis", host: "localhost", organization: "Redis", in: folder)
        try TLSListenerTests.makeCertificate("other", host: "other.example", organization: "Other", in: folder)
        for (name, works) in [("redis", true), ("other", false)] {
            let tlsPort = try RedisServer.freePort()
            let server = try await RedisServer(arguments: [
                "--tls-port", String(tlsPort), "--tls-cert-file", folder + "/\(name).pem", "--tls-key-file",
                folder + "/\(name).key",
                "--tls-ca-cert-file", folder + "/ca.pem", "--tls-auth-clients", "no", "--requirepass", "tls-secret",
            ])
            defer { server.close() }
            var configuration = RedisClient.Configuration(
                url: try RedisURL(parsing: "rediss://:tls-secret@localhost:\(tlsPort)/0"))
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(folder + "/ca.pem")
            configuration.tls = tls
            configuration.minimumReconnectDelay = .milliseconds(50)
            var logger = Logger(label: "redis.test")
            logger.logLevel = .critical
            let client = try RedisClient(
                configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
            client.start()
            defer { client.shutdown() }
            if works {
                try await Self.connected(client)
                #expect(try await client.send(["PING"]) == .simpleString("PONG"))
            } else {
                try await Task.sleep(for: .milliseconds(500))
                #expect(client.status.connected == 0)
                #expect(
                    client.status.lastError?.contains("certificate") == true
                        || client.status.lastError?.contains("handshake") == true, "\(client.status)")
            }
        }
    }

    @Test("scripts run by SHA-1 and load themselves after SCRIPT FLUSH (NOSCRIPT)")
    func scripts() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        let client = try Self.client(server.url)
        defer { client.shutdown() }
        try await Self.connected(client)
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(
            try await client.run(script, keys: [Array("k".utf8)], arguments: [Array("5".utf8)]).get() == .integer(5))
        #expect(try await client.send(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(1)]))
        _ = try await client.send(["SCRIPT", "FLUSH"])
        #expect(
            try await client.run(script, keys: [Array("k".utf8)], arguments: [Array("2".utf8)]).get() == .integer(7))
        #expect(try await client.send(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(1)]))
    }

    @Test("a stopped server fails commands at once; a restarted one is reconnected to; a paused one times out")
    func faults() async throws {
        let server = try await RedisServer()
        defer { server.close() }
        let client = try Self.client(server.url, timeout: .milliseconds(300))
        defer { client.shutdown() }
        try await Self.connected(client)
        #expect(try await client.send(["PING"]) == .simpleString("PONG"))

        server.stop()
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(ContinuousClock.now - started < .milliseconds(200))
        #expect(client.status.connected == 0)

        try await server.start()
        try await Self.connected(client)
        #expect(try await client.send(["PING"]) == .simpleString("PONG"))

        // CLIENT PAUSE, from another client, holds this one's commands: the timeout answers instead.
        let pauser = try Self.client(server.url)
        defer { pauser.shutdown() }
        try await Self.connected(pauser)
        _ = try await pauser.send(["CLIENT", "PAUSE", "1500", "ALL"])
        let paused = ContinuousClock.now
        let timedOut = await #expect(throws: RedisError.self) { try await client.send(["SET", "x", "1"]) }
        #expect(timedOut == .timeout)
        #expect(ContinuousClock.now - paused < .milliseconds(1200))
    }
}
