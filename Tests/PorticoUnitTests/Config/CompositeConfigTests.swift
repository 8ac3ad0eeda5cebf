import Foundation
import PorticoConfig
import PorticoTesting
import Testing

/// The pieces of composite endpoints that need no server: selectors, templates, conditions,
/// merge rules, and the loader's messages.
@Suite("Composite endpoint config")
struct CompositeConfigTests {
    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test("selectors read dotted paths, indexes, [*] and JSON pointers, and refuse malformed ones")
    func selectors() throws {
        let order = try json(#"{"items":[{"product_id":"p1"},{"product_id":"p2"}],"meta":{"a.b":1}}"#)
        #expect(JSONSelector("items[*].product_id")!.values(in: order).map(\.scalarText) == ["p1", "p2"])
        #expect(JSONSelector("items[1].product_id")!.value(in: order)?.scalarText == "p2")
        #expect(JSONSelector("/items/0/product_id")!.value(in: order)?.scalarText == "p1")
        #expect(JSONSelector("/items/*/product_id")!.values(in: order).count == 2)
        #expect(JSONSelector("/meta/a.b")!.value(in: order)?.scalarText == "1")
        #expect(JSONSelector("items[9].product_id")!.values(in: order).isEmpty)
        for bad in ["items[", "items[x]", ".items", "items..id", "items.", "a[0]b", "a b", "/a/~2"] {
            #expect(JSONSelector(bad) == nil, "\(bad)")
        }
    }

    @Test("call templates know their sources and the calls they wait for")
    func templates() throws {
        let template = try CallTemplate.parse(
            "/teams/{calls.user.body.team_id}?page={query.page}&u={path.user}", item: nil
        ).get()
        #expect(template.calls == ["user"])
        #expect(template.parts.count == 6)
        let item = try CallTemplate.parse("/products/{item}/{item.sku}", item: "item").get()
        #expect(item.readsItem)
        for (bad, message) in [
            ("/x/{nope}", "unknown placeholder {nope}"),
            ("/x/{calls.user}", "must name a call and a value"),
            ("/x/{calls.user.body.items[*].id}", "not a single field"),
            ("/x/{path.id", "unterminated {"),
            ("/x/}", "a '}' without its '{'"),
            ("/x/{route.name}", "unknown placeholder"),
        ] {
            guard case .failure(let problem) = CallTemplate.parse(bad, item: nil) else {
                Issue.record("\(bad) parsed")
                continue
            }
            #expect(problem.description.contains(message), "\(problem)")
        }
    }

    @Test("conditions compare request values with literals, with && binding tighter than ||")
    func conditions() throws {
        func holds(_ text: String, _ values: [BranchCondition.Operand: [String]]) throws -> Bool {
            try BranchCondition.parse(text).get().holds { values[$0] ?? [] }
        }
        let country = BranchCondition.Operand.body(JSONSelector("/country")!)
        #expect(try holds("body./country == 'DE'", [country: ["DE"]]))
        #expect(try !holds("body./country == 'DE'", [country: ["FR"]]))
        #expect(try holds("body./country != 'DE'", [:]))
        #expect(try holds("header.X-Region in ['eu', \"uk\"]", [.header("X-Region"): ["uk"]]))
        #expect(try holds("consumer.groups == 'beta'", [.consumerGroups: ["alpha", "beta"]]))
        #expect(try holds("query.beta", [.query("beta"): ["1"]]))
        #expect(try !holds("query.beta", [.query("beta"): [""]]))
        #expect(try holds("method == 'GET' || header.A == 'x' && header.B == 'y'", [.method: ["GET"]]))
        #expect(try !holds("(method == 'GET' || header.A == 'x') && header.B == 'y'", [.method: ["GET"]]))
        #expect(try holds("body.total == 10", [.body(JSONSelector("total")!): ["10"]]))
        #expect(try BranchCondition.parse("body.a == 'x'").get().readsBody)
        for bad in [
            "", "header.X ==", "nope == 'x'", "body./country == DE", "header.X == 'unterminated", "(method == 'GET'",
            "header.X in 'a'",
        ] {
            guard case .failure = BranchCondition.parse(bad) else {
                Issue.record("'\(bad)' parsed")
                continue
            }
        }
    }

    @Test("merge rules keep, remove, rename and move by pointer, with * over arrays")
    func mergeRules() throws {
        let body = try json(
            #"{"user":{"name":"Ann","email":"a@x","tags":["a"]},"items":[{"id":1,"secret":"s","price":2},{"id":2,"secret":"t"}],"n":[[1],[2,3]]}"#
        )
        var allow = MergeRules()
        allow.allow = [JSONSelector("/user/name")!, JSONSelector("/items/*/id")!]
        #expect(allow.apply(to: body).jsonText == #"{"user":{"name":"Ann"},"items":[{"id":1},{"id":2}]}"#)
        var deny = MergeRules()
        deny.deny = [JSONSelector("/items/*/secret")!, JSONSelector("/user")!, JSONSelector("/n")!]
        #expect(deny.apply(to: body).jsonText == #"{"items":[{"id":1,"price":2},{"id":2}]}"#)
        var rename = MergeRules()
        rename.rename = [
            .init(from: JSONSelector("/items/*/id")!, to: "key"), .init(from: JSONSelector("/user/name")!, to: "email"),
        ]
        rename.target = JSONPointer("")
        let renamed = rename.apply(to: body)
        #expect(JSONPointer("/items/1/key")!.value(in: renamed)?.jsonText == "2")
        // A rename onto an existing member replaces it, in the renamed member's place.
        #expect(JSONPointer("/user")!.value(in: renamed)?.jsonText == #"{"email":"Ann","tags":["a"]}"#)
        var move = MergeRules()
        move.move = [.init(from: JSONPointer("/user/name")!, to: JSONPointer("/profile/display")!)]
        move.target = nil
        #expect(JSONPointer("/profile/display")!.value(in: move.apply(to: body))?.scalarText == "Ann")
        var flatten = MergeRules()
        flatten.target = JSONPointer("/n")
        flatten.flatten = true
        #expect(flatten.apply(to: body).jsonText == "[1,2,3]")
    }

    let base = """
        upstreams:
          users: {targets: [{url: "http://127.0.0.1:9000"}]}
          teams: {targets: [{url: "http://127.0.0.1:9001"}]}
        apis:
          - name: m
            base-path: /m
            endpoints:

        """

    func problems(_ endpoints: String) throws -> [String] {
        try configDiagnostics(base + endpoints).map { "\($0.line):\($0.column): \($0.message)" }
    }

    @Test("a good BFF config loads: endpoints become routes, with no upstream on the API")
    func loads() throws {
        #expect(
            try problems(
                """
                      - path: /home/{user}
                        calls:
                          - {name: user, upstream: users, path: "/users/{path.user}", group: user}
                          - {name: team, upstream: teams, path: "/teams/{calls.user.body.team_id}", group: team, required: false, timeout: 300ms}
                        partial: body
                        count: per-call
                      - path: /quote
                        method: POST
                        branch:
                          - {when: "body./country == 'DE'", upstream: teams}
                          - {default: true, upstream: users}
                """) == [])
    }

    @Test("each bad composite or branch setting gets its own message at its own place")
    func messages() throws {
        let cases: [(String, String)] = [
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: \"/x/{calls.b.body.id}\"}, {name: b, upstream: users, path: \"/y/{calls.a.body.id}\"}]}",
                "the calls depend on each other in a cycle"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: \"/x/{calls.zz.body.id}\"}]}",
                "has no call named 'zz'"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: \"/x/{path.id}\"}]}",
                "reads {path.id}, but the endpoint's path has no {id}"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: nowhere, path: /x}]}",
                "names upstream 'nowhere', which is not defined"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: /x}, {name: a, upstream: users, path: /y}]}",
                "two calls named 'a'"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: /x, group: g}, {name: b, upstream: users, path: /y, group: g}]}",
                "both go under group 'g'"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: /x, for-each: \"order.items\"}]}",
                "for-each must read an earlier call's answer"
            ),
            (
                "      - {path: /a, calls: [{name: o, upstream: users, path: /o}, {name: a, upstream: users, path: /x, for-each: \"calls.o.body.items[*]\"}]}",
                "neither its path nor its headers read {item}"
            ),
            ("      - {path: /a, calls: [{name: a, upstream: users, path: x}]}", "path must start with '/'"),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: /x, allow: [\"items[\"]}]}",
                "is not a field (a JSON pointer"
            ),
            (
                "      - {path: /a, calls: [{name: a, upstream: users, path: /x, timeout: 0s}]}",
                "timeout must be more than 0"
            ),
            ("      - {path: /a, calls: [{name: a, upstream: mock, path: /x}]}", "a call needs a real upstream"),
            ("      - {path: /a, calls: [{name: \"a.b\", upstream: users, path: /x}]}", "a call name may hold letters"),
            ("      - {path: /a, calls: [{name: a, upstream: users, path: /x}], partial: maybe}", "partial"),
            ("      - {path: /a, calls: []}", "at least one backend call"),
            ("      - {path: /a}", "needs calls (a composite endpoint) or branch"),
            ("      - {path: /a, branch: [{when: \"nope == 'x'\", upstream: users}]}", "unknown value 'nope'"),
            ("      - {path: /a, branch: [{upstream: users}]}", "needs a condition"),
            (
                "      - {path: /a, branch: [{default: true, upstream: users}, {default: true, upstream: teams}]}",
                "two defaults"
            ),
            (
                "      - {path: /a, branch: [{default: true, upstream: users}], partial: body}",
                "belongs to an endpoint with calls"
            ),
        ]
        for (endpoint, message) in cases {
            let found = try problems(endpoint)
            #expect(found.contains { $0.contains(message) }, "\(endpoint): \(found)")
            #expect(
                found.allSatisfy {
                    $0.hasPrefix("9:") || $0.hasPrefix("8:") || $0.hasPrefix("4:") || $0.hasPrefix("5:")
                }, "\(found)")
        }
    }
}

extension CompositeConfigTests {
    @Test("the worked BFF example in config/README.md loads as written")
    func readmeExample() throws {
        let readme = try String(contentsOfFile: packageRoot + "/config/README.md", encoding: .utf8)
        let section = try #require(readme.range(of: "### A backend for each frontend"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```yaml\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let yaml = String(rest[open.upperBound..<close.lowerBound])
        #expect(try configDiagnostics(yaml).map(\.description) == [])
    }
}
