import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoTesting
import Synchronization
import Testing

/// Composite endpoints and branches end to end: several real upstreams, the gateway in between.
@Suite("Aggregation and backends-for-frontends")
struct AggregationTests {
    /// An upstream that answers JSON by path and remembers what it was asked and when.
    ///
    /// A path starting `/slow` is answered after 200 ms, `/hang` when the test releases it,
    /// `/gather3` and `/gather2` when that many requests are in flight together, `/fail` with 500,
    /// `/missing` with 404, `/cacheable` with `Cache-Control: public, max-age=60`.
    /// Holds each request until `size` requests have arrived at once (over every backend that
    /// shares it): a rendezvous met proves that many calls were in flight together, whatever the
    /// machine's load does to timing.
    final class Rendezvous: Sendable {
        let size: Int
        private let arrived = Mutex(0)
        private let missed = Mutex(0)

        init(size: Int) { self.size = size }

        var misses: Int { missed.withLock { $0 } }

        func arrive() async throws {
            let number = arrived.withLock { count -> Int in
                count += 1
                return count
            }
            let goal = ((number - 1) / size + 1) * size
            let deadline = ContinuousClock.now + .seconds(5)
            while arrived.withLock({ $0 }) < goal {
                guard ContinuousClock.now < deadline else {
                    missed.withLock { $0 += 1 }
                    return
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    final class Backend: Sendable {
        struct Seen: Sendable {
            var path: String
            var start: ContinuousClock.Instant
            var end: ContinuousClock.Instant
            var headers: [String: String]
            var body: String
        }

        let name: String
        let seen = Mutex<[Seen]>([])
        private let load = Mutex<(now: Int, peak: Int)>((0, 0))
        /// `/gather3/…` waits for three requests in flight at once, `/gather2/…` for two.
        let rendezvous: [Int: Rendezvous]
        /// `/hang/…` answers once the test lets it go (or after 10 s).
        let hanging: Mutex<Bool>

        init(_ name: String, rendezvous: [Int: Rendezvous]) {
            self.name = name
            self.rendezvous = rendezvous
            self.hanging = Mutex(true)
        }

        func release() { hanging.withLock { $0 = false } }

        var peak: Int { load.withLock { $0.peak } }
        func paths() -> [String] { seen.withLock { $0.map(\.path) } }
        func count(_ prefix: String) -> Int { seen.withLock { $0.filter { $0.path.hasPrefix(prefix) }.count } }

        func router() -> Router<BasicRequestContext> {
            let router = Router(context: BasicRequestContext.self)
            for method in [HTTPRequest.Method.get, .post] {
                router.on("/**", method: method) { request, _ -> Response in try await self.answer(request) }
            }
            return router
        }

        private func answer(_ request: Request) async throws -> Response {
            let start = ContinuousClock.now
            load.withLock {
                $0.now += 1
                $0.peak = max($0.peak, $0.now)
            }
            defer { load.withLock { $0.now -= 1 } }
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var path = request.uri.path
            var status = HTTPResponse.Status.ok
            var headers: HTTPFields = [.contentType: "application/json"]
            if path.hasPrefix("/slow/") {
                try await Task.sleep(for: .milliseconds(200))
                path.removeFirst(5)
            } else if path.hasPrefix("/hang/") {
                let deadline = ContinuousClock.now + .seconds(10)
                while hanging.withLock({ $0 }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                path.removeFirst(5)
            } else if path.hasPrefix("/gather3/") || path.hasPrefix("/gather2/") {
                try await rendezvous[path.hasPrefix("/gather3/") ? 3 : 2]!.arrive()
                path.removeFirst(8)
            } else if path.hasPrefix("/fail/") {
                status = .internalServerError
            } else if path.hasPrefix("/missing/") {
                status = .notFound
            } else if path.hasPrefix("/cacheable/") {
                headers[.cacheControl] = "public, max-age=60"
            }
            let parts = path.split(separator: "/").map(String.init)
            let id = parts.count > 1 ? parts[1] : ""
            let json: String
            switch parts.first {
            case "users": json = #"{"id":"\#(id)","name":"Ann","team_id":"t-7","email":"ann@example.com"}"#
            case "teams": json = #"{"id":"\#(id)","title":"Core"}"#
            case "feed": json = #"{"items":[{"n":1},{"n":2}],"query":"\#(request.uri.query ?? "")"}"#
            case "orders":
                json =
                    #"{"id":"\#(id)","items":[\#((1...6).map { #"{"product_id":"p\#($0)"}"# }.joined(separator: ","))]}"#
            case "products": json = #"{"id":"\#(id)","price":10,"secret":"s"}"#
            case "cacheable": json = #"{"stock":3}"#
            case "lists": json = #"{"data":{"pages":[[1,2],[3]],"meta":{"total":3,"cursor":"c"}}}"#
            default: json = #"{"backend":"\#(name)","path":"\#(request.uri.path)"}"#
            }
            var fields: [String: String] = [:]
            for field in request.headers { fields[field.name.canonicalName] = field.value }  // lower-case names
            seen.withLock {
                $0.append(Seen(path: request.uri.description, start: start, end: .now, headers: fields, body: body))
            }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
        }
    }

    static func yaml(users: Int, teams: Int, feed: Int) -> String {
        """
        admin: {listen: 127.0.0.1:0, token: test-admin-token-0123456789abcdef}
        portal: {path: /portal}
        upstreams:
          users: {targets: [{url: "http://127.0.0.1:\(users)"}]}
          teams: {targets: [{url: "http://127.0.0.1:\(teams)"}]}
          feed: {targets: [{url: "http://127.0.0.1:\(feed)"}]}
        auth:
          key: {type: api-key}
        consumers:
          - {name: app, groups: [mobile], keys: [bff-key-0123456789abcdef]}
          - {name: partner, groups: [partners], keys: [partner-key-0123456789abcdef]}
        apis:
          - name: mobile
            base-path: /mobile
            endpoints:
              - path: /parallel/{user}
                calls:
                  - {name: a, upstream: users, path: "/gather3/users/{path.user}", group: a}
                  - {name: b, upstream: teams, path: "/gather3/teams/x", group: b}
                  - {name: c, upstream: feed, path: "/gather3/feed", group: c}
              - path: /home/{user}
                method: GET
                auth: key
                calls:
                  - {name: user, upstream: users, path: "/users/{path.user}", group: user, allow: [/name, /team_id]}
                  - {name: team, upstream: teams, path: "/teams/{calls.user.body.team_id}", group: team}
                  - {name: feed, upstream: feed, path: "/hang/feed?user={path.user}", group: feed, timeout: 300ms, required: false}
                partial: body
              - path: /quick/{user}
                calls:
                  - {name: user, upstream: users, path: "/users/{path.user}"}
                  - {name: feed, upstream: feed, path: "/feed?user={path.user}&page={query.page}", group: feed, headers: {X-Caller: "{consumer.name}", X-Team: "{calls.user.body.team_id}"}}
              - path: /orders/{id}
                calls:
                  - {name: order, upstream: users, path: "/orders/{path.id}", deny: [/items]}
                  - {name: products, upstream: teams, path: "/gather2/products/{item}", for-each: "calls.order.body.items[*].product_id", as: item, concurrency: 2, group: products, deny: [/secret]}
              - path: /required/{user}
                calls:
                  - {name: user, upstream: users, path: "/fail/users/{path.user}"}
                  - {name: feed, upstream: feed, path: "/feed", group: feed}
              - path: /missing/{user}
                calls:
                  - {name: user, upstream: users, path: "/missing/users/{path.user}"}
              - path: /cached/{id}
                calls:
                  - {name: stock, upstream: teams, path: "/cacheable/{path.id}", group: stock, cache: true}
                  - {name: user, upstream: users, path: "/users/{path.id}", group: user}
              - path: /shape
                calls:
                  - {name: lists, upstream: users, path: "/lists", target: /data, rename: {/meta/total: count}, move: {/meta/cursor: /next}}
                  - {name: pages, upstream: teams, path: "/lists", target: /data/pages, flatten: true, group: numbers}
                result: {wrap: data, rename: {/pages: raw_pages}}
              - path: /as-array
                calls:
                  - {name: one, upstream: users, path: "/users/1", allow: [/id]}
                  - {name: two, upstream: teams, path: "/teams/2", allow: [/id]}
                result: {array: true}
              - path: /counted
                openapi: {summary: Two calls counted twice, responses: {"200": {description: Both answers}}}
                rate-limit: {rate: 4/m, burst: 4, by: ip}
                count: per-call
                calls:
                  - {name: a, upstream: users, path: /users/1, group: a}
                  - {name: b, upstream: teams, path: /teams/1, group: b}
              - path: /merged/{id}
                name: mergedStock
                cache: true
                calls:
                  - {name: stock, upstream: teams, path: "/cacheable/{path.id}", group: stock}
                  - {name: more, upstream: users, path: "/cacheable/{path.id}", group: more}
              - path: /too-big
                max-merged-size: 100
                calls:
                  - {name: a, upstream: users, path: /users/1, group: a}
                  - {name: b, upstream: teams, path: /orders/1, group: b}
              - path: /too-large
                calls:
                  - {name: a, upstream: users, path: /users/1, max-size: 10}
              - path: /fan-out
                calls:
                  - {name: order, upstream: users, path: "/orders/1"}
                  - {name: products, upstream: teams, path: "/products/{item}", for-each: "calls.order.body.items[*].product_id", max-items: 3, group: products}
              - path: /quote
                method: POST
                branch:
                  - {when: "body./country == 'DE'", upstream: feed}
                  - {when: "header.X-Region == 'eu' || query.region == 'eu'", upstream: teams}
                  - {default: true, upstream: users}
              - path: /partners
                auth: key
                branch:
                  - {when: "consumer.groups == 'partners'", upstream: teams}
                  - {default: true, upstream: users}
          - name: web
            base-path: /web
            endpoints:
              - path: /home/{user}
                calls:
                  - {name: user, upstream: users, path: "/users/{path.user}"}
                  - {name: team, upstream: teams, path: "/teams/{calls.user.body.team_id}", group: team, allow: [/title]}
        """
    }

    static func withGateway<T: Sendable>(
        _ body: (TestClient, Int, [String: Backend]) async throws -> T
    ) async throws -> T {
        let rendezvous = [2: Rendezvous(size: 2), 3: Rendezvous(size: 3)]
        let backends = [
            "users": Backend("users", rendezvous: rendezvous), "teams": Backend("teams", rendezvous: rendezvous),
            "feed": Backend("feed", rendezvous: rendezvous),
        ]
        return try await withServer(backends["users"]!.router()) { users in
            try await withServer(backends["teams"]!.router()) { teams in
                try await withServer(backends["feed"]!.router()) { feed in
                    // Requests still hanging are let go before the servers stop, which waits for them.
                    defer { for backend in backends.values { backend.release() } }
                    return try await GatewayHarness.with(yaml: yaml(users: users, teams: teams, feed: feed)) {
                        gateway in
                        try await withClient(baseURL: gateway.baseURL) { client in
                            try await body(client, gateway.adminPort!, backends)
                        }
                    }
                }
            }
        }
    }

    static func object(_ answer: TestClient.Answer) throws -> [String: Any] { try answer.json() }

    @Test("independent calls run at once: three backends that each wait for the other two all answer")
    func parallel() async throws {
        try await Self.withGateway { client, _, backends in
            let answer = try await client.send(.GET, "/mobile/parallel/1")
            #expect(answer.status == 200)
            let body = try Self.object(answer)
            #expect((body["a"] as? [String: Any])?["name"] as? String == "Ann")
            #expect((body["b"] as? [String: Any])?["title"] as? String == "Core")
            #expect((body["c"] as? [String: Any])?["items"] != nil)
            #expect(answer.headers["X-Portico-Completed"].first == "true")
            // Each backend held its request until all three were in flight: run one after the
            // other, the first would have waited out its 5 s alone. (The latency against calls
            // made one after another is measured in bench/aggregate.sh, not here.)
            #expect(backends["users"]!.rendezvous[3]!.misses == 0)
            #expect(backends.values.allSatisfy { $0.seen.withLock { $0.count } == 1 })
        }
    }

    @Test(
        "a dependent call waits for the value it reads; an optional call that times out leaves a partial answer that says so"
    )
    func dependentAndPartial() async throws {
        try await Self.withGateway { client, adminPort, backends in
            let unauthenticated = try await client.send(.GET, "/mobile/home/u1")
            #expect(unauthenticated.status == 401)
            let start = ContinuousClock.now
            let answer = try await client.send(
                .GET, "/mobile/home/u1",
                headers: [("X-API-Key", "bff-key-0123456789abcdef"), ("X-Request-Id", "composite-home-1")])
            let elapsed = ContinuousClock.now - start
            #expect(answer.status == 200)
            #expect(answer.headers["X-Portico-Completed"].first == "false")
            #expect(answer.headers["Cache-Control"].first == "no-store")
            // The feed hangs until the test ends (10 s at most); the 300 ms timeout answers without it.
            #expect(elapsed < .seconds(5), "took \(elapsed)")
            let body = try Self.object(answer)
            #expect(body["user"] as? [String: String] == ["name": "Ann", "team_id": "t-7"])
            #expect((body["team"] as? [String: Any])?["id"] as? String == "t-7")
            #expect(body["feed"] == nil)
            let partial = body["_partial"] as? [[String: String]]
            #expect(partial == [["call": "feed", "reason": "timeout"]])

            // The team call went out after the user call had answered, with its value.
            let user = try #require(backends["users"]!.seen.withLock { $0.last })
            let team = try #require(backends["teams"]!.seen.withLock { $0.last })
            #expect(team.path == "/teams/t-7")
            #expect(team.start >= user.end)
            #expect(team.headers["x-consumer-name"] == "app")
            #expect(team.headers["x-api-key"] == nil)
            #expect(team.headers["x-request-id"] == "composite-home-1")
            // Each call is its own span of the client's trace.
            let traces = [user, team].compactMap { $0.headers["traceparent"]?.split(separator: "-") }
            #expect(traces.count == 2 && traces[0][1] == traces[1][1] && traces[0][2] != traces[1][2])

            // One call record, with a child row per backend call.
            let record = try #require(
                try await Self.callRecord(client, adminPort: adminPort, requestID: "composite-home-1"))
            #expect(record["status"] as? Int == 200)
            #expect(record["consumer"] as? String == "app")
            let rows = try #require(record["backends"] as? [[String: Any]])
            let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as? String ?? "", $0) })
            #expect(Set(byName.keys) == ["user", "team", "feed"])
            #expect(byName["user"]?["status"] as? Int == 200)
            #expect((byName["user"]?["target"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
            #expect(byName["feed"]?["error"] as? String == "timeout")
            #expect((byName["team"]?["span_id"] as? String)?.count == 16)
        }
    }

    static func callRecord(_ client: TestClient, adminPort: Int, requestID: String) async throws -> [String: Any]? {
        try await MirrorTests.call(
            TestClient(client: client.client, baseURL: "http://127.0.0.1:\(adminPort)"), requestID: requestID)
    }

    @Test(
        "placeholders read the path, the query, the consumer and earlier answers, encoded so no value adds a segment or a parameter"
    )
    func placeholders() async throws {
        try await Self.withGateway { client, _, backends in
            let answer = try await client.send(.GET, "/mobile/quick/a%3Fx%3D1%23f?page=2%26admin%3Dtrue")
            #expect(answer.status == 200)
            let feed = try #require(backends["feed"]!.seen.withLock { $0.last })
            #expect(feed.path == "/feed?user=a%3Fx%3D1%23f&page=2%26admin%3Dtrue")
            #expect(feed.headers["x-team"] == "t-7")
            #expect(feed.headers["x-caller"] == "")
            let user = try #require(backends["users"]!.seen.withLock { $0.last })
            #expect(user.path == "/users/a%3Fx%3D1%23f")
            // Without a group, the user's answer is merged into the top level.
            let body = try Self.object(answer)
            #expect(body["name"] as? String == "Ann")
            #expect(body["feed"] != nil)
        }
    }

    @Test("for-each calls once per element, at most `concurrency` at a time, and collects the answers in order")
    func forEach() async throws {
        try await Self.withGateway { client, _, backends in
            let answer = try await client.send(.GET, "/mobile/orders/o1")
            #expect(answer.status == 200)
            let body = try Self.object(answer)
            #expect(body["id"] as? String == "o1")
            #expect(body["items"] == nil)
            let products = try #require(body["products"] as? [[String: Any]])
            #expect(products.map { $0["id"] as? String } == ["p1", "p2", "p3", "p4", "p5", "p6"])
            #expect(products.allSatisfy { $0["secret"] == nil && $0["price"] as? Int == 10 })
            #expect(backends["teams"]!.count("/gather2/products/") == 6)
            // Two at a time: each pair met (so two were in flight), and never a third.
            #expect(backends["teams"]!.rendezvous[2]!.misses == 0)
            #expect(backends["teams"]!.peak == 2)
        }
    }

    @Test("a required call that fails answers its problem: 502 for the backend's 500, 404 for its 404")
    func requiredFailure() async throws {
        try await Self.withGateway { client, _, _ in
            let failed = try await client.send(
                .GET, "/mobile/required/u1", headers: [("X-Request-Id", "composite-failed-1")])
            #expect(failed.status == 502)
            #expect(failed.headers["Content-Type"].first == "application/problem+json")
            let problem = try failed.json()
            #expect((problem["detail"] as? String)?.contains("'user' answered 500") == true)
            #expect(problem["request_id"] as? String == "composite-failed-1")
            let missing = try await client.send(.GET, "/mobile/missing/u1")
            #expect(missing.status == 404)
            #expect((try missing.json()["detail"] as? String)?.contains("'user' answered 404") == true)
        }
    }

    @Test("answers are bounded: per call, per endpoint in sum, and in for-each elements")
    func bounds() async throws {
        try await Self.withGateway { client, _, backends in
            let merged = try await client.send(.GET, "/mobile/too-big")
            #expect(merged.status == 502)
            #expect((try merged.json()["detail"] as? String)?.contains("passed the endpoint's 100 bytes") == true)
            let large = try await client.send(.GET, "/mobile/too-large")
            #expect(large.status == 502)
            #expect((try large.json()["detail"] as? String)?.contains("more than 10 bytes") == true)
            let fanOut = try await client.send(.GET, "/mobile/fan-out")
            #expect(fanOut.status == 502)
            #expect((try fanOut.json()["detail"] as? String)?.contains("would be made 6 times; at most 3") == true)
            #expect(backends["teams"]!.count("/products/") == 0)
        }
    }

    @Test("one backend's answer is cached by its own Cache-Control while the other is asked each time")
    func cachesOneBackend() async throws {
        try await Self.withGateway { client, adminPort, backends in
            for _ in 0..<3 {
                let answer = try await client.send(.GET, "/mobile/cached/7")
                #expect(answer.status == 200)
                let body = try Self.object(answer)
                #expect((body["stock"] as? [String: Any])?["stock"] as? Int == 3)
                // The user's answer has no lifetime, so the merge claims none.
                #expect(answer.headers["Cache-Control"].isEmpty)
            }
            #expect(backends["teams"]!.count("/cacheable/7") == 1)
            #expect(backends["users"]!.count("/users/7") == 3)
            // Purging the whole cache empties the backend answers too.
            let purged = try await adminClient(client, port: adminPort).send(
                .POST, "/admin/cache/purge", json: #"{"all": true}"#)
            #expect(try purged.json()["purged"] as? Int ?? 0 >= 1)
            #expect(try await client.send(.GET, "/mobile/cached/7").status == 200)
            #expect(backends["teams"]!.count("/cacheable/7") == 2)
        }
    }

    @Test("target, rename, move, deny, flatten, wrap and the array result shape the answer")
    func shaping() async throws {
        try await Self.withGateway { client, _, _ in
            let shaped = try Self.object(try await client.send(.GET, "/mobile/shape"))
            let data = try #require(shaped["data"] as? [String: Any])
            #expect(data["raw_pages"] as? [[Int]] == [[1, 2], [3]])
            #expect(data["next"] as? String == "c")
            #expect(data["meta"] as? [String: Int] == ["count": 3])
            #expect(data["numbers"] as? [Int] == [1, 2, 3])
            let list = try await client.send(.GET, "/mobile/as-array")
            let items = try JSONSerialization.jsonObject(with: Data(buffer: list.body)) as? [[String: String]]
            #expect(items == [["id": "1"], ["id": "2"]])
        }
    }

    @Test(
        "a branch picks its upstream by the body, a header or query parameter, or the consumer's group, else the default"
    )
    func branching() async throws {
        try await Self.withGateway { client, _, backends in
            func post(_ body: String, headers: [(String, String)] = [], query: String = "") async throws -> String? {
                let answer = try await client.send(
                    .POST, "/mobile/quote" + query, headers: [("Content-Type", "application/json")] + headers,
                    body: .bytes(ByteBuffer(string: body)))
                return try answer.json()["backend"] as? String
            }
            #expect(try await post(#"{"country":"DE","amount":3}"#) == "feed")
            #expect(try await post(#"{"country":"FR"}"#, headers: [("X-Region", "eu")]) == "teams")
            #expect(try await post(#"{"country":"FR"}"#, query: "?region=eu") == "teams")
            #expect(try await post(#"{"country":"US"}"#) == "users")
            #expect(try await post("not json") == "users")
            // The chosen upstream got the body as the client sent it.
            #expect(backends["feed"]!.seen.withLock { $0.last?.body } == #"{"country":"DE","amount":3}"#)
            let partner = try await client.send(
                .GET, "/mobile/partners", headers: [("X-API-Key", "partner-key-0123456789abcdef")])
            #expect(try partner.json()["backend"] as? String == "teams")
            let app = try await client.send(
                .GET, "/mobile/partners", headers: [("X-API-Key", "bff-key-0123456789abcdef")])
            #expect(try app.json()["backend"] as? String == "users")
        }
    }

    @Test("two APIs shape the same services for two clients, and the portal documents composite endpoints")
    func twoFrontends() async throws {
        try await Self.withGateway { client, _, _ in
            let web = try Self.object(try await client.send(.GET, "/web/home/u1"))
            #expect(web["email"] as? String == "ann@example.com")
            #expect(web["team"] as? [String: String] == ["title": "Core"])

            let index = try Self.object(try await client.send(.GET, "/portal/api/apis/mobile/-"))
            let operations = try #require(index["operations"] as? [[String: Any]])
            let home = try #require(operations.first { $0["path"] as? String == "/mobile/home/{user}" })
            let page = try Self.object(
                try await client.send(.GET, "/portal/api/apis/mobile/-/operations/\(home["id"] as? String ?? "")"))
            let description = page["description"] as? String ?? ""
            #expect(description.contains("- `team`") && description.contains("- `feed` (optional)"))
            // The portal is public: backend paths and upstream names stay internal.
            #expect(!description.contains("/teams/") && !description.contains("upstream"))
            #expect((page["parameters"] as? [[String: Any]])?.first?["name"] as? String == "user")
            let responses = try #require(page["responses"] as? [[String: Any]])
            let schema = ((responses.first?["content"] as? [[String: Any]])?.first?["schema"]) as? [String: Any]
            let properties = (schema?["properties"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(properties == ["user", "team", "feed", "_partial"])
            #expect(operations.contains { $0["path"] as? String == "/mobile/quote" })
            // An endpoint's own openapi: snippet is shown as written.
            let counted = try #require(operations.first { $0["path"] as? String == "/mobile/counted" })
            #expect(counted["summary"] as? String == "Two calls counted twice")
        }
    }

    @Test("count: per-call charges the rate limit once per backend call")
    func countsPerCall() async throws {
        try await Self.withGateway { client, _, _ in
            // 4 a minute, and each request makes two calls: the third request is refused.
            #expect(try await client.send(.GET, "/mobile/counted").status == 200)
            #expect(try await client.send(.GET, "/mobile/counted").status == 200)
            let refused = try await client.send(.GET, "/mobile/counted")
            #expect(refused.status == 429)
        }
    }

    @Test("the merged answer is cached by the route's cache when every backend allows it")
    func cachesMergedAnswer() async throws {
        try await Self.withGateway { client, _, backends in
            let first = try await client.send(.GET, "/mobile/merged/9")
            #expect(first.headers["Cache-Control"].first == "max-age=60")
            let second = try await client.send(.GET, "/mobile/merged/9")
            #expect(second.status == 200)
            #expect(try Self.object(second)["stock"] != nil)
            #expect(backends["teams"]!.count("/cacheable/9") == 1)
            #expect(backends["users"]!.count("/cacheable/9") == 1)
        }
    }
}
