import HTTPTypes
import PorticoConfig

/// A backend call's answer, read whole and parsed.
struct CallAnswer: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: JSONValue
    /// How long a shared cache may keep the answer, as the backend said (`s-maxage`, `max-age`);
    /// nil when it said nothing, or forbade it.
    let sharedLifetime: Int?

    /// The freshness a shared cache may give `headers`: nil for `no-store`, `private`, `no-cache`
    /// or no explicit lifetime.
    static func sharedLifetime(of headers: HTTPFields) -> Int? {
        let control = CacheControl(headers)
        if control.noStore || control.isPrivate || control.noCache || headers[.setCookie] != nil { return nil }
        if headers[values: .vary].contains(where: { $0.contains("*") }) { return nil }
        return control.sMaxAge ?? control.maxAge
    }
}

/// Why a backend call (or one element of a `for-each`) gave no answer.
struct CallFailure: Error, Sendable {
    /// The call's name; an element's is `name[index]`.
    let name: String
    /// Short, for `_partial` and the call log: `timeout`, `unavailable`, `status 404`, `not json`.
    let reason: String
    /// What the client gets when the call was required.
    let error: GatewayError
}

/// What a call came to.
enum CallResult: Sendable {
    case answered(CallAnswer)
    /// A `for-each` whose elements partly failed: the answers that came, and the failures.
    case partial(CallAnswer, [CallFailure])
    case failed(CallFailure)

    var answer: CallAnswer? {
        switch self {
        case .answered(let answer), .partial(let answer, _): return answer
        case .failed: return nil
        }
    }

    var failures: [CallFailure] {
        switch self {
        case .answered: return []
        case .partial(_, let failures): return failures
        case .failed(let failure): return [failure]
        }
    }
}
