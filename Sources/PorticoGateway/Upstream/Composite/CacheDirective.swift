import PorticoConfig

/// What several answers together allow a cache: the strictest of their `Cache-Control`s.
enum CacheDirective: Equatable {
    /// Some answer said nothing: the merge says nothing either.
    case unspecified
    case forbidden(String)
    case lifetime(Int)

    init(_ answer: CallAnswer) {
        let control = CacheControl(answer.headers)
        if control.noStore {
            self = .forbidden("no-store")
        } else if control.isPrivate {
            self = .forbidden("private")
        } else if let lifetime = answer.sharedLifetime {
            self = .lifetime(lifetime)
        } else {
            self = .unspecified
        }
    }

    static func combined(_ directives: [CacheDirective]) -> CacheDirective {
        if directives.contains(.forbidden("no-store")) { return .forbidden("no-store") }
        if directives.contains(.forbidden("private")) { return .forbidden("private") }
        if directives.isEmpty || directives.contains(.unspecified) { return .unspecified }
        return .lifetime(directives.compactMap { if case .lifetime(let value) = $0 { value } else { nil } }.min() ?? 0)
    }

    var fieldValue: String? {
        switch self {
        case .unspecified: return nil
        case .forbidden(let directive): return directive
        case .lifetime(let seconds): return "max-age=\(seconds)"
        }
    }
}
