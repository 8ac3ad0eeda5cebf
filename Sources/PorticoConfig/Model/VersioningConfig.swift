import Foundation

/// How a request names the version of an API it wants.
package struct VersioningConfig: Sendable, Hashable {
    package enum Source: String, Sendable, Hashable, CaseIterable {
        /// Versions have their own base paths (`/v1/users`, `/v2/users`); nothing else to read.
        case path
        case header
        case query
        /// `Accept: application/vnd.NAME.VERSION+json`.
        case mediaType = "media-type"
    }

    package var by: Source
    /// The header or query parameter; for `media-type`, the vendor name (defaults to the API's name).
    package var name: String?

    package init(by: Source = .path, name: String? = nil) {
        self.by = by
        self.name = name
    }

    /// The header or parameter read, with its default.
    package var parameter: String {
        switch by {
        case .header: return name ?? "Api-Version"
        case .query: return name ?? "version"
        case .path, .mediaType: return name ?? ""
        }
    }
}

/// Deprecation and sunset of a version or a route (RFC 9745, RFC 8594).
package struct LifecycleConfig: Sendable, Hashable {
    /// Since when the version or route is deprecated; `.distantPast` for `deprecated: true`.
    package var deprecated: Date?
    /// When it stops being served.
    package var sunset: Date?
    /// The version that replaces it.
    package var successor: String?
    /// A page that explains the deprecation.
    package var docs: String?
    /// Keep serving after the sunset date instead of answering 410.
    package var serveAfterSunset = false

    package init(deprecated: Date? = nil, sunset: Date? = nil, successor: String? = nil, docs: String? = nil) {
        self.deprecated = deprecated
        self.sunset = sunset
        self.successor = successor
        self.docs = docs
    }

    package var isEmpty: Bool { deprecated == nil && sunset == nil }

    /// These settings with every field that `more` sets taken from `more`.
    package func overridden(by more: LifecycleConfig) -> LifecycleConfig {
        var merged = self
        if let value = more.deprecated { merged.deprecated = value }
        if let value = more.sunset { merged.sunset = value }
        if let value = more.successor { merged.successor = value }
        if let value = more.docs { merged.docs = value }
        if more.serveAfterSunset { merged.serveAfterSunset = true }
        return merged
    }

    /// Parses `2026-12-01` (midnight UTC) or an RFC 3339 time.
    package static func parseDate(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        if parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            parts[0].count == 4, (1...12).contains(month), (1...31).contains(day)
        {
            var components = DateComponents()
            (components.year, components.month, components.day) = (year, month, day)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar.date(from: components)
        }
        return ISO8601DateFormatter().date(from: text)
    }
}

/// One side of a traffic split.
package struct SplitSide: Sendable, Hashable {
    package var upstream: String
    package var weight: Int

    package init(upstream: String, weight: Int) {
        self.upstream = upstream
        self.weight = weight
    }
}

/// A weighted split of an API's traffic over upstreams (a canary).
package struct SplitConfig: Sendable, Hashable {
    package var sides: [SplitSide]
    /// Keeps a caller on one side: `ip`, `header:NAME` or `cookie:NAME`. Nil spreads requests exactly by weight.
    package var sticky: HashKey?
    /// A header whose value, an upstream's name, forces that side.
    package var forceHeader: String?

    package init(sides: [SplitSide], sticky: HashKey? = nil, forceHeader: String? = nil) {
        self.sides = sides
        self.sticky = sticky
        self.forceHeader = forceHeader
    }
}
