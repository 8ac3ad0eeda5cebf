import Foundation

/// A `$ref` value split into the file it names (empty: the same file) and the JSON pointer
/// into it: `models/pet.yaml#/Pet` → (`models/pet.yaml`, [`Pet`]).
///
/// The file part is a relative URI reference, percent-decoded; the fragment is a JSON pointer
/// (RFC 6901) after percent-decoding. Remote references (`https://…`) and anchors (`#name`)
/// are refused with a reason, as Portico loads only files next to the document.
struct SpecReference: Hashable {
    var file: String
    var pointer: [String]

    static func parse(_ text: String) -> Result<SpecReference, Problem> {
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let rawFile = String(parts[0])
        let rawFragment = parts.count > 1 ? String(parts[1]) : ""
        if rawFile.contains("://") || rawFile.hasPrefix("//") {
            return .failure(
                .init(
                    "remote $ref '\(text)' is not fetched; save the file next to the document and refer to it by a relative path"
                ))
        }
        // Most references hold no escape; Foundation's decoding is a large part of bundling otherwise.
        guard let file = rawFile.contains("%") ? rawFile.removingPercentEncoding : rawFile,
            let fragment = rawFragment.contains("%") ? rawFragment.removingPercentEncoding : rawFragment
        else {
            return .failure(.init("$ref '\(text)' has a bad percent-encoding"))
        }
        guard fragment.isEmpty || fragment.hasPrefix("/") else {
            return .failure(
                .init("$ref '\(text)' names an anchor; Portico follows JSON pointers like '#/components/schemas/Pet'"))
        }
        guard let pointer = JSONPointer(fragment) else {
            return .failure(.init("$ref '\(text)' has a bad JSON pointer (write '~1' for '/' and '~0' for '~')"))
        }
        return .success(SpecReference(file: file, pointer: pointer.tokens))
    }

    /// The pointer written back as a fragment: `#/components/schemas/Pet`.
    static func fragment(_ tokens: [String]) -> String {
        "#" + tokens.map { "/" + JSONPointer.escape($0) }.joined()
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
