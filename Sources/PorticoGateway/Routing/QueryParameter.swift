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
        editing(path) { key in key.elementsEqual(name.utf8) ? .remove : .keep }
    }

    /// `path` with every parameter called `name` called `newName` instead.
    static func renaming(_ name: String, to newName: String, in path: String) -> String {
        editing(path) { key in key.elementsEqual(name.utf8) ? .rename(newName) : .keep }
    }

    /// `path` with `name=value` appended; both are percent-encoded here.
    static func appending(_ name: String, value: String, to path: String) -> String {
        let separator =
            path.utf8.contains(UInt8(ascii: "?")) ? (path.hasSuffix("?") || path.hasSuffix("&") ? "" : "&") : "?"
        return path + separator + PercentEncoding.encode(name) + "=" + PercentEncoding.encode(value)
    }

    enum Edit {
        case keep
        case remove
        case rename(String)
    }

    /// `path` with each parameter kept, removed or renamed as `edit` says; unchanged when none is touched.
    private static func editing(_ path: String, _ edit: (Substring.UTF8View) -> Edit) -> String {
        guard let question = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        var kept: [UInt8] = []
        var changed = false
        forEachParameter(in: path) { key, value in
            let name: [UInt8]
            switch edit(key) {
            case .remove:
                changed = true
                return
            case .rename(let newName):
                changed = true
                name = Array(PercentEncoding.encode(newName).utf8)
            case .keep:
                name = Array(key)
            }
            kept.append(kept.isEmpty ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            kept.append(contentsOf: name)
            if let value {
                kept.append(UInt8(ascii: "="))
                kept.append(contentsOf: value)
            }
        }
        guard changed else { return path }
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
    static func decoded(_ raw: Substring.UTF8View) -> String? {
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
