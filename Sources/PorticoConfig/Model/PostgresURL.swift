import Foundation

/// `postgres://user:password@host:port/database?sslmode=…`: where the shared store is.
///
/// `sslmode` is `disable`, `prefer` (the default, as libpq's: TLS if the server offers it, not
/// verified), `require` (TLS, not verified) or `verify-full` (TLS, with the certificate checked
/// against the system's roots and the host name).
package struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    package enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    package var tls: TLSMode

    package init(parsing text: String) throws(PostgresURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw PostgresURLError("it must look like postgres://user:password@host:5432/database")
        }
        guard let host = url.host, !host.isEmpty else { throw PostgresURLError("no host") }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        // URLComponents reads a port it cannot hold (20 digits) as none: read the text itself.
        let authority = text.drop { $0 != "/" }.dropFirst(2).prefix { $0 != "/" && $0 != "?" }
        let hostAndPort = authority.split(separator: "@").last ?? ""
        let afterHost =
            hostAndPort.hasPrefix("[") ? hostAndPort.drop { $0 != "]" }.dropFirst() : hostAndPort.drop { $0 != ":" }
        if afterHost.hasPrefix(":") {
            guard let number = Int(afterHost.dropFirst()), (1...65_535).contains(number) else {
                throw PostgresURLError("port '\(afterHost.dropFirst().prefix(24))' (1 to 65535)")
            }
            port = number
        } else {
            port = 5432
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresURLError("no user (postgres://user@host/database)")
        }
        self.user = user
        password = url.password
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? user : path
        guard !database.contains("/"), database.utf8.count <= 63 else {
            throw PostgresURLError("the database is one name of at most 63 bytes")
        }
        tls = .prefer
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw PostgresURLError("sslmode must be disable, prefer, require or verify-full")
                }
                tls = mode
            default:
                throw PostgresURLError("unknown parameter '\(item.name)' (known: sslmode)")
            }
        }
    }

    /// The URL without its password, for logs and `/admin/status`.
    package var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}

package struct PostgresURLError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
