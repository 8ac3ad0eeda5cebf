/// `application/x-www-form-urlencoded` bodies (and the text fields of multipart ones) as JSON
/// objects: a field's text becomes a number, boolean or string by its schema, and a field sent
/// several times (or declared as an array) becomes an array.
enum FormBody {
    static func pairs(_ bytes: [UInt8]) -> [(String, String)] {
        RequestParts.queryPairs(Substring(decoding: bytes, as: UTF8.self))
    }

    static func value(_ text: String, shape: ParameterRule.Shape?) -> JSONValue {
        switch shape {
        case .primitive(let kind)?, .array(let kind)?: return ParameterRule.scalar(text, kind)
        case .json?: return (try? JSONParser.parse(Array(text.utf8))) ?? .string(text)
        default: return .string(text)
        }
    }

    /// Repeated names gathered into arrays, and array fields given as arrays even when sent once.
    static func grouped(_ value: JSONValue, shapes: [String: ParameterRule.Shape]) -> JSONValue {
        var order: [String] = []
        var values: [String: [JSONValue]] = [:]
        for (name, item) in value.fields {
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(item)
        }
        return .object(
            order.map { name in
                let items = values[name] ?? []
                if case .array? = shapes[name] { return (name, .array(items)) }
                return (name, items.count == 1 ? items[0] : .array(items))
            })
    }
}
