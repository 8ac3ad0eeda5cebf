import Foundation
import PorticoConfig

/// The cost of checking a request body against its OpenAPI schema, for bench/openapi.sh.
///
/// Loads CONFIG (an API with `validate:` on and the generated document), takes the contract of
/// `createResource1` (its body is `Model1`: nested refs, an array of refs, patterns, formats,
/// enums, bounds), and times the check of one valid body of about 1 KB, parsing included, in
/// batches of 1,000; the median batch per check. Then the same for an invalid body (the issues
/// listed) and for a request's parameters alone (`getResource1`: path, two query parameters).
enum ValidationCost {
    static func run(config path: String, rounds: Int) throws {
        let config = try ConfigLoader().load(file: path)
        guard let api = config.apis.first(where: { $0.document != nil }),
            let create = api.routes.first(where: { $0.name == "createResource1" })?.contract,
            let get = api.routes.first(where: { $0.name == "getResource1" })?.contract,
            let document = api.document, let schema = document.schemas["Model1"]
        else {
            FileHandle.standardError.write(Data("the config has no API with createResource1 and validate on\n".utf8))
            exit(2)
        }
        var sampler = SchemaSampler(document: document, random: nil)
        var value = sampler.sample(schema)
        // About 1 KB: the sample, with its arrays filled to a few items.
        if case .object(var fields) = value {
            fields.append(("metadata", .object((0..<24).map { ("key\($0)", .string("value number \($0)")) })))
            fields.removeAll { $0.0 == "parent" || $0.0 == "related" }
            value = .object(fields)
        }
        let valid = Array(value.jsonText.utf8)
        let (_, found) = create.validate(body: valid, contentType: "application/json")
        guard found.isEmpty else {
            FileHandle.standardError.write(Data("the sample body is not valid: \(found)\n".utf8))
            exit(2)
        }
        var invalid = value
        if case .object(var fields) = invalid {
            fields.removeAll { $0.0 == "object" }
            fields = fields.map {
                $0.0 == "amount" ? ($0.0, .number("-5")) : $0.0 == "currency" ? ($0.0, .string("euro")) : $0
            }
            invalid = .object(fields)
        }
        let invalidBytes = Array(invalid.jsonText.utf8)
        let parts = RequestParts(
            pathValues: ["id": "42"], query: RequestParts.queryPairs("expand=a&expand=b&limit=10"), header: { _ in [] },
            cookie: { _ in nil })

        let body = median(rounds: rounds) { _ = create.validate(body: valid, contentType: "application/json") }
        let bad = median(rounds: rounds) { _ = create.validate(body: invalidBytes, contentType: "application/json") }
        let parameters = median(rounds: rounds) { _ = get.validate(parts) }
        let issues = create.validate(body: invalidBytes, contentType: "application/json").1.count
        print(String(format: "valid %d-byte JSON body: %.2f µs per check (target <= 10 µs)", valid.count, body / 1000))
        print(String(format: "invalid body (%d issues): %.2f µs per check", issues, bad / 1000))
        print(String(format: "parameters (path + 2 query): %.2f µs per check", parameters / 1000))
    }

    /// The median over `rounds` batches of 1,000 calls, in nanoseconds per call.
    static func median(rounds: Int, _ body: () -> Void) -> Double {
        var batches: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            for _ in 0..<1000 { body() }
            let elapsed = ContinuousClock.now - start
            batches.append(
                (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / 1000)
        }
        batches.sort()
        return batches[batches.count / 2]
    }
}
