import Foundation
import PorticoGateway

/// The filter parameters the admin API's analytics and the portal's usage share, as
/// `AnalyticsQuery` reads them.
package enum AnalyticsParameters {
    /// The parameters that have a value. `from` and `to` are the two forms their schema allows:
    /// an RFC 3339 time (which the generated server has read as a `Date`; it is passed as Unix
    /// seconds within the years the call log holds, 1970 to 9999) or Unix seconds as given.
    package static func values(
        since: String?, from: (Date?, String?)?, to: (Date?, String?)?, api: String?, version: String?,
        route: String?, consumer: String? = nil, status: String?
    ) -> [String: String] {
        let pairs: [(String, String?)] = [
            ("since", since), ("from", from.flatMap(time)), ("to", to.flatMap(time)), ("api", api),
            ("version", version), ("route", route), ("consumer", consumer), ("status", status),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    private static func time(_ date: Date?, _ seconds: String?) -> String? {
        date.map { String(min(max($0.timeIntervalSince1970, 0), AnalyticsQuery.latestSeconds)) } ?? seconds
    }
}
