/// Edits to the request before it is forwarded and to the response before it is returned (`TransformPolicy`).
package struct TransformSettings: PolicySettings {
    package var requestTransform: TransformConfig?
    package var responseTransform: TransformConfig?

    package init() {}

    package static let overrides: [FieldOverride<Self>] = [.take(\.requestTransform), .take(\.responseTransform)]
}
