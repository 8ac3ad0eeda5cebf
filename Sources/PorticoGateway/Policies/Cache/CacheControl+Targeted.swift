import HTTPTypes
import RawStructuredFieldValues

extension CacheControl {
    /// `Portico-Cache-Control`, aimed at this gateway's cache alone; removed before the client.
    static let porticoField = HTTPField.Name("Portico-Cache-Control")!
    /// `CDN-Cache-Control` (RFC 9213), aimed at every CDN cache; passed on.
    static let cdnField = HTTPField.Name("CDN-Cache-Control")!

    /// The directives a shared cache follows for a response (RFC 9213 §2.2): those of the first
    /// of `Portico-Cache-Control` and `CDN-Cache-Control` that holds a valid, non-empty
    /// Structured Fields dictionary, which then override `Cache-Control` and `Expires`; else
    /// `Cache-Control`'s. `targeted` says which it was.
    static func forSharedCache(_ fields: HTTPFields) -> (control: CacheControl, targeted: Bool) {
        for name in [porticoField, cdnField] {
            let lines = fields[values: name]
            guard !lines.isEmpty, let control = CacheControl(targeted: lines.joined(separator: ", ")) else { continue }
            return (control, true)
        }
        return (CacheControl(fields), false)
    }

    /// Reads a targeted field (RFC 9213 §2.1): a Structured Fields dictionary (RFC 8941) whose
    /// members are Cache-Control directives. nil when it is not a valid dictionary or is empty. A
    /// directive whose value has the wrong type is ignored (`max-age=1.5`, `max-age="60"`,
    /// `no-store=?0`); parameters are ignored; unknown directives are ignored.
    init?(targeted value: String) {
        var parser = StructuredFieldValueParser(Array(value.utf8))
        guard let dictionary = try? parser.parseDictionaryFieldValue(), !dictionary.isEmpty else { return nil }
        self.init()
        for (name, member) in dictionary {
            guard case .item(let item) = member else { continue }
            let bare = item.bareItem
            let seconds: Int? =
                if case .integer(let number) = bare, number >= 0 { min(number, Self.maximumDeltaSeconds) } else { nil }
            let flag: Bool = if case .bool(true) = bare { true } else { false }
            let fieldNames: [String]? =
                if case .string(let text) = bare {
                    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                } else { nil }
            switch name {
            case "max-age": maxAge = seconds ?? maxAge
            case "s-maxage": sMaxAge = seconds ?? sMaxAge
            case "stale-while-revalidate": staleWhileRevalidate = seconds ?? staleWhileRevalidate
            case "stale-if-error": staleIfError = seconds ?? staleIfError
            case "no-store": noStore = noStore || flag
            case "no-cache":
                noCache = noCache || flag || fieldNames != nil
                noCacheFields = fieldNames ?? noCacheFields
            case "private":
                if flag {
                    isPrivate = true
                } else if let fieldNames {
                    isPrivate = true
                    privateFields = fieldNames
                }
            case "public": isPublic = isPublic || flag
            case "must-revalidate": mustRevalidate = mustRevalidate || flag
            case "proxy-revalidate": proxyRevalidate = proxyRevalidate || flag
            default: break
            }
        }
    }
}
