/// One way a request (or response) breaks its OpenAPI contract: where, as a JSON pointer into
/// the message (`/body/items/3/price`, `/query/limit`), and what was expected.
package struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    package var pointer: String
    package var message: String

    package init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }

    package var description: String { "\(pointer): \(message)" }
}

/// Which message a schema checks: `readOnly` properties may not be sent in a request and
/// `writeOnly` ones not in a response; `required` does not apply to the other side's properties.
package enum ValidationDirection: Sendable {
    case request
    case response
}

/// The issues found so far, bounded: past `limit` the check stops, so a huge invalid body costs
/// no more than a small one.
struct IssueList {
    var issues: [ValidationIssue] = []
    let limit: Int
    var isFull: Bool { issues.count >= limit }

    init(limit: Int) { self.limit = limit }

    /// Adds an issue; its pointer and words are only made when the list has room.
    mutating func add(_ pointer: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        guard !isFull else { return }
        issues.append(ValidationIssue(pointer: pointer(), message: message()))
    }
}
