import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// Announces deprecation and sunset, and retires a route after its sunset.
///
/// Responses carry `Deprecation` (RFC 9745, a structured-field date such as `@1796083200`),
/// `Sunset` (RFC 8594, an HTTP-date) and `Link` to the successor version and to the deprecation
/// docs. After the sunset the gateway answers 410 unless the config keeps serving.
struct LifecyclePolicy: FastPolicy {
    let phase = PolicyPhase.request
    let priority = 10_000
    let lifecycle: LifecycleConfig
    /// The path of the successor version, for `Link`.
    let successorPath: String?
    /// The headers every response gets, built once when the config is compiled.
    let fields: [HTTPField]
    /// The wall clock; tests pass their own.
    let now: @Sendable () -> Date

    /// - Parameter loadedAt: when the config was loaded: the date `deprecated: true` announces.
    init?(lifecycle: LifecycleConfig, successorPath: String?, loadedAt: Date, now: @escaping @Sendable () -> Date) {
        guard !lifecycle.isEmpty else { return nil }
        self.lifecycle = lifecycle
        self.successorPath = successorPath
        self.fields = Self.headers(lifecycle: lifecycle, successorPath: successorPath, loadedAt: loadedAt)
        self.now = now
    }

    func handle(_ request: Request, exchange: Exchange, next: PolicyNext) async throws -> Response {
        if let sunset = lifecycle.sunset, now() >= sunset, !lifecycle.serveAfterSunset {
            throw GatewayError.gone(sunset: HTTPDate.format(sunset), successor: successorPath)
        }
        var response = try await next(request, exchange: exchange)
        response.headers.append(contentsOf: fields)
        return response
    }

    func admit(_ head: inout HTTPRequest, exchange: Exchange) -> FastAdmission {
        if let sunset = lifecycle.sunset, now() >= sunset, !lifecycle.serveAfterSunset {
            return .refuse(.gone(sunset: HTTPDate.format(sunset), successor: successorPath))
        }
        return .proceed
    }

    func respond(_ head: inout HTTPResponse, exchange: Exchange) {
        head.headerFields.append(contentsOf: fields)
    }

    static func headers(lifecycle: LifecycleConfig, successorPath: String?, loadedAt: Date) -> [HTTPField] {
        var fields: [HTTPField] = []
        if let deprecated = lifecycle.deprecated {
            let date = deprecated == .distantPast ? loadedAt : deprecated
            fields.append(HTTPField(name: Self.deprecation, value: "@\(Int(date.timeIntervalSince1970))"))
        }
        if let sunset = lifecycle.sunset {
            fields.append(HTTPField(name: Self.sunset, value: HTTPDate.format(sunset)))
        }
        if let successorPath {
            fields.append(HTTPField(name: Self.link, value: "<\(successorPath)>; rel=\"successor-version\""))
        }
        if let docs = lifecycle.docs {
            fields.append(HTTPField(name: Self.link, value: "<\(docs)>; rel=\"deprecation\"; type=\"text/html\""))
        }
        return fields
    }

    static let deprecation = HTTPField.Name("Deprecation")!
    static let sunset = HTTPField.Name("Sunset")!
    static let link = HTTPField.Name("Link")!
}
