import Foundation
import HTTPTypes
import Hummingbird
import PorticoConfig

/// One configured auth method, compiled: it reads its credential from a request and checks it.
protocol Authenticator: Sendable {
    /// The method's name in the config.
    var name: String { get }
    /// The `WWW-Authenticate` challenge a 401 carries for this method.
    var challenge: String { get }
    func authenticate(_ request: Request, consumers: ConsumerLookup) async -> AuthOutcome
    /// Removes the credential this method reads from a request about to be forwarded.
    /// The outcome decided at once, without suspending; nil when this request needs work that
    /// waits (the event-loop path then passes the request to the streaming path).
    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome?
    func strip(_ head: inout HTTPRequest)
    /// Whether its credentials can be guessed (passwords), so that failures count against the
    /// client's address. Random keys and signed tokens cannot.
    var guessable: Bool { get }
}

extension Authenticator {
    var guessable: Bool { false }
    func authenticateNow(_ head: HTTPRequest, consumers: ConsumerLookup) -> AuthOutcome? { nil }
}

/// Consumers and keys from the config (per snapshot) and from the store (live).
struct ConsumerLookup: Sendable {
    let config: CredentialTable
    let directory: CredentialDirectory

    func consumer(named name: String) -> CredentialTable.Consumer? {
        config.consumers[name] ?? directory.current.consumers[name]
    }

    /// The identity of a known consumer, or a bare one for a name only a token vouches for.
    func identity(
        of name: String, method: String, scopes: Set<String>? = nil, extraGroups: [String] = [], credential: String? = nil
    ) -> Identity {
        let known = consumer(named: name)
        var groups = known?.groups ?? []
        for group in extraGroups where !groups.contains(group) { groups.append(group) }
        return Identity(
            consumer: name, groups: groups, plan: known?.plan, scopes: scopes ?? known?.scopes ?? [], method: method,
            credential: credential)
    }
}

/// A credential sent as a query parameter, read and removed as bytes. A parameter's name is
/// matched as sent and its value percent-decoded when it decodes, as Hummingbird's
/// `uri.queryParameters` reads them, so the streaming path and the event-loop path agree.
enum QueryParameter {
    /// The first value of the parameter called `name` in `path`'s query; nil if there is none.
    static func value(of name: String, in path: String) -> String? {
        var found: String?
        forEachParameter(in: path) { key, value in
            guard found == nil, key.elementsEqual(name.utf8) else { return }
            guard let value else {
                found = ""
                return
            }
            found = decoded(value) ?? String(Substring(value))
        }
        return found
    }

    /// `path` without any parameter called `name`.
    static func removing(_ name: String, from path: String) -> String {
        guard let question = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        var kept: [UInt8] = []
        var removedAny = false
        forEachParameter(in: path) { key, value in
            if key.elementsEqual(name.utf8) {
                removedAny = true
                return
            }
            kept.append(kept.isEmpty ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            kept.append(contentsOf: key)
            if let value {
                kept.append(UInt8(ascii: "="))
                kept.append(contentsOf: value)
            }
        }
        guard removedAny else { return path }
        return String(Substring(path.utf8[..<question])) + String(decoding: kept, as: UTF8.self)
    }

    /// Each non-empty `name[=value]` of the query, in order (value nil when there is no `=`).
    private static func forEachParameter(
        in path: String, _ body: (Substring.UTF8View, Substring.UTF8View?) -> Void
    ) {
        let utf8 = path.utf8
        guard let question = utf8.firstIndex(of: UInt8(ascii: "?")) else { return }
        var start = utf8.index(after: question)
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "&")) ?? utf8.endIndex
            let pair = Substring(utf8[start..<end]).utf8
            if !pair.isEmpty {
                if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                    body(pair[..<equals], pair[pair.index(after: equals)...])
                } else {
                    body(pair, nil)
                }
            }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
    }

    /// Percent-decoded (bytes that are not UTF-8 become U+FFFD), or nil when a `%` is not
    /// followed by two hex digits.
    private static func decoded(_ raw: Substring.UTF8View) -> String? {
        guard raw.contains(UInt8(ascii: "%")) else { return String(Substring(raw)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            index = raw.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard index < raw.endIndex, let high = hex(raw[index]) else { return nil }
            index = raw.index(after: index)
            guard index < raw.endIndex, let low = hex(raw[index]) else { return nil }
            index = raw.index(after: index)
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A bearer token from `Authorization`, if the request carries one.
func bearerToken(_ request: Request) -> Substring? {
    guard let value = request.headers[.authorization], value.count > 7 else { return nil }
    let scheme = value.prefix(7)
    guard scheme.lowercased() == "bearer " else { return nil }
    let token = value.dropFirst(7).drop { $0 == " " }
    return token.isEmpty ? nil : token
}
