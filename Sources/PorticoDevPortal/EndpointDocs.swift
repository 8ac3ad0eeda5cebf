import PorticoConfig
import PorticoGateway

/// The OpenAPI operation the portal shows for a composite or branching endpoint: the config's
/// `openapi:` snippet when it gives one, else one generated from the endpoint (its parameters,
/// its calls and the shape of their merge, or its cases).
enum EndpointDocs {
    static func operation(for route: RouteConfig) -> JSONValue? {
        if let operation = route.operation { return operation }
        if let composite = route.composite { return operation(composite, route: route) }
        if let branch = route.branch { return operation(branch, route: route) }
        return nil
    }

    private static func pathParameters(_ route: RouteConfig) -> [JSONValue] {
        PathTemplate.parameterNames(of: route.path).map { name in
            .object([
                ("name", .string(name)), ("in", .string("path")), ("required", .bool(true)),
                ("schema", .object([("type", .string("string"))])),
            ])
        }
    }

    private static func operation(_ composite: CompositeConfig, route: RouteConfig) -> JSONValue {
        var parameters = pathParameters(route)
        var queries: [String] = []
        for call in composite.calls {
            for case .request(.query(let name)) in call.path.parts + call.headers.flatMap(\.value.parts)
            where !queries.contains(name) {
                queries.append(name)
            }
        }
        parameters += queries.map {
            .object([
                ("name", .string($0)), ("in", .string("query")), ("required", .bool(false)),
                ("schema", .object([("type", .string("string"))])),
            ])
        }
        // The calls by name only: the upstreams, their paths and the templates are internal.
        let lines = composite.calls.map { call in
            "- `\(call.group ?? call.name)`" + (call.forEach != nil ? ", one answer per element" : "")
                + (call.required ? "" : " (optional)")
        }
        var description =
            "Answered by the gateway from \(composite.calls.count) backend calls, run at once where they do not depend on each other:\n\n"
            + lines.joined(separator: "\n")
        if composite.calls.contains(where: { !$0.required }) {
            description +=
                "\n\nWhen an optional call fails the answer leaves it out and carries `X-Portico-Completed: false`"
                + (composite.partial == .body ? "; `_partial` lists each failed call and why." : ".")
        }
        let completed: JSONValue = .object([
            ("description", .string("false when an optional call's answer is missing")),
            ("schema", .object([("type", .string("string"))])),
        ])
        return .object([
            ("summary", .string(route.name ?? "Combines " + composite.calls.map(\.name).joined(separator: ", "))),
            ("description", .string(description)),
            ("parameters", .array(parameters)),
            (
                "responses",
                .object([
                    (
                        "200",
                        .object([
                            ("description", .string("The merged answer")),
                            ("headers", .object([("X-Portico-Completed", completed)])),
                            ("content", .object([("application/json", .object([("schema", schema(composite))]))])),
                        ])
                    ),
                    ("502", .object([("description", .string("A required call failed or did not answer JSON"))])),
                    ("504", .object([("description", .string("A required call did not answer in time"))])),
                ])
            ),
        ])
    }

    /// The merge's shape: a member per group (or per call that is not merged into the top level).
    static func schema(_ composite: CompositeConfig) -> JSONValue {
        let any: JSONValue = .object([])
        var schema: JSONValue
        if composite.result.array {
            schema = .object([("type", .string("array")), ("items", any)])
        } else {
            var properties: [(String, JSONValue)] = []
            var open = false
            for call in composite.calls {
                let value: JSONValue =
                    call.forEach != nil
                    ? .object([("type", .string("array")), ("items", any)]) : .object([("type", .string("object"))])
                if let group = call.group {
                    properties.append((group, value))
                } else if call.forEach != nil {
                    properties.append((call.name, value))
                } else {
                    open = true
                }
            }
            if composite.partial == .body {
                properties.append(
                    (
                        "_partial",
                        .object([
                            ("type", .string("array")),
                            ("description", .string("The optional calls that failed, and why")),
                        ])
                    ))
            }
            var fields: [(String, JSONValue)] = [("type", .string("object")), ("properties", .object(properties))]
            if open { fields.append(("additionalProperties", .bool(true))) }
            schema = .object(fields)
        }
        if let wrap = composite.result.wrap {
            schema = .object([("type", .string("object")), ("properties", .object([(wrap, schema)]))])
        }
        return schema
    }

    private static func operation(_ branch: BranchConfig, route: RouteConfig) -> JSONValue {
        // The conditions are not shown: they may name internal headers or values.
        let count = Set(branch.upstreams).count
        return .object([
            ("summary", .string(route.name ?? "Routed by the request")),
            (
                "description",
                .string("The gateway sends the request to one of \(count) services, chosen by what the request holds.")
            ),
            ("parameters", .array(pathParameters(route))),
        ])
    }
}
