extension ConfigLoader.Reader {
    /// The `node` root section: `{id: ${HOSTNAME}}`.
    func readNode(_ node: ConfigNode) -> NodeConfig {
        var result = NodeConfig()
        guard let fields = node.fields(allowed: ["id"], context: "node") else { return result }
        if let idNode = fields["id"], let id = idNode.nonEmptyString(context: "node.id") {
            if id.utf8.count > NodeConfig.maximumIDBytes
                || id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                idNode.report("node.id must be at most \(NodeConfig.maximumIDBytes) bytes, without control characters")
            } else {
                result.id = id
            }
        }
        return result
    }
}
